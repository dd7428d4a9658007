"""Sentences for the mixed2 benchmark, written for it (no other suite and no training data has
them): the same sixteen everyday lines in each language, so a bilingual stack pairs a line
with its English. Read by ``make_scripts.py``; ``pool("ko")`` is a language's list."""

EN = """
Is the water boiling yet?
Add a pinch of salt, then stir.
We finally made it to the beach!
The train leaves at 7:30 tomorrow.
I can't find my passport anywhere.
How much is this jacket?
Wow, the view from up here is amazing!
Let me check the map again.
Don't forget to like and subscribe!
I'm so tired today
Can we sit by the window?
The restaurant is closed on Mondays.
Honestly, I didn't expect that
Wait here, I'll be right back.
It smells really good in here.
See you all next time
"""

ZH = """
水开了吗？
加一小撮盐，然后搅拌。
我们终于到海边了！
火车明天7:30出发。
我到处都找不到我的护照。
这件夹克多少钱？
哇，从上面看风景太美了！
我再看一下地图。
别忘了点赞和订阅！
今天我好累啊
我们可以坐窗边吗？
那家餐厅周一不营业。
说实话，我没想到会这样
在这儿等着，我马上回来。
这里面闻起来好香。
大家下次见
"""

ZH_TW = """
水滾了嗎？
加一小撮鹽，然後攪拌。
我們終於到海邊了！
火車明天7:30出發。
我到處都找不到我的護照。
這件外套多少錢？
哇，從上面看出去的風景超美！
我再看一下地圖。
別忘了按讚訂閱！
今天真的好累喔
我們可以坐靠窗的位子嗎？
那家餐廳週一公休。
老實說，我沒想到會這樣
在這裡等一下，我馬上回來。
這裡面聞起來好香喔。
大家下次見囉
"""

RU = """
Вода уже закипела?
Добавь щепотку соли, потом помешай.
Мы наконец добрались до пляжа!
Поезд отходит завтра в 7:30.
Я нигде не могу найти свой паспорт.
Сколько стоит эта куртка?
Ого, какой отсюда потрясающий вид!
Дай я ещё раз посмотрю карту.
Не забудьте поставить лайк и подписаться!
Как же я сегодня устал
Можно нам сесть у окна?
По понедельникам ресторан не работает.
Честно говоря, я этого не ожидал
Подожди здесь, я сейчас вернусь.
Здесь так вкусно пахнет.
Всем до встречи в следующий раз
"""

UK = """
Вода вже закипіла?
Додай дрібку солі, потім перемішай.
Ми нарешті дісталися до пляжу!
Потяг вирушає завтра о 7:30.
Я ніде не можу знайти свій паспорт.
Скільки коштує ця куртка?
Ого, який звідси чудовий краєвид!
Дай я ще раз подивлюся на карту.
Не забудьте поставити лайк і підписатися!
Як же я сьогодні втомився
Можна нам сісти біля вікна?
По понеділках ресторан не працює.
Чесно кажучи, я цього не очікував
Почекай тут, я зараз повернуся.
Тут так смачно пахне.
Усім до зустрічі наступного разу
"""

KO = """
물 벌써 끓었어?
소금 한 꼬집 넣고, 저어 주세요.
드디어 바다에 도착했다!
기차는 내일 7:30에 출발해요.
여권을 아무리 찾아도 없어.
이 재킷 얼마예요?
와, 여기서 보는 경치 진짜 멋지다!
지도 한 번만 다시 볼게.
좋아요와 구독 잊지 마세요!
오늘 진짜 너무 피곤하다
창가 자리에 앉아도 될까요?
그 식당은 월요일마다 문을 닫아요.
솔직히, 이럴 줄 몰랐어
여기서 기다려, 금방 올게.
여기 냄새 진짜 좋다.
여러분 다음에 또 만나요
"""

JA = """
もうお湯沸いた？
塩をひとつまみ入れて、混ぜてください。
やっと海に着いた！
電車は明日の7:30に出発します。
パスポートがどこにも見つからない。
このジャケットはいくらですか？
わあ、ここからの景色は最高だね！
もう一度地図を見てみるね。
高評価とチャンネル登録を忘れずに！
今日は本当に疲れた
窓際の席に座ってもいいですか？
そのレストランは月曜日が定休日です。
正直、こうなるとは思わなかった
ここで待ってて、すぐ戻るから。
ここ、すごくいい匂いがする。
みんな、また次回会おうね
"""

VI = """
Nước sôi chưa?
Thêm một nhúm muối, rồi khuấy đều.
Cuối cùng chúng ta cũng tới biển rồi!
Ngày mai tàu chạy lúc 7:30.
Tôi tìm mãi không thấy hộ chiếu đâu.
Cái áo khoác này bao nhiêu tiền?
Ôi, cảnh từ trên này đẹp quá!
Để tôi xem lại bản đồ.
Đừng quên bấm thích và đăng ký nhé!
Hôm nay mệt quá đi mất
Chúng ta ngồi cạnh cửa sổ được không?
Nhà hàng đó đóng cửa vào thứ Hai.
Nói thật, tôi không ngờ lại như vậy
Đợi ở đây nhé, tôi quay lại ngay.
Ở đây thơm quá.
Hẹn gặp lại mọi người lần sau
"""

AR = """
هل غلى الماء بعد؟
أضف رشة ملح، ثم حرك.
وصلنا إلى الشاطئ أخيرا!
يغادر القطار غدا في 7:30.
لا أجد جواز سفري في أي مكان.
كم ثمن هذه السترة؟
ما أجمل المنظر من هنا!
دعني أتحقق من الخريطة مرة أخرى.
لا تنسوا الإعجاب والاشتراك!
أنا متعب جدا اليوم
هل يمكننا الجلوس بجانب النافذة؟
المطعم مغلق أيام الاثنين.
بصراحة، لم أتوقع ذلك
انتظر هنا، سأعود حالا.
الرائحة هنا طيبة جدا.
أراكم في المرة القادمة
"""

HE = """
המים כבר רותחים?
מוסיפים קורט מלח, ואז מערבבים.
סוף סוף הגענו לים!
הרכבת יוצאת מחר ב-7:30.
אני לא מוצא את הדרכון שלי בשום מקום.
כמה עולה המעיל הזה?
וואו, הנוף מכאן מדהים!
אני אבדוק שוב את המפה.
אל תשכחו לעשות לייק ולהירשם לערוץ!
אני כל כך עייף היום
אפשר לשבת ליד החלון?
המסעדה סגורה בימי שני.
בכנות, לא ציפיתי לזה
חכה כאן, אני כבר חוזר.
מריח פה ממש טוב.
נתראה בפעם הבאה
"""

TH = """
น้ำเดือดหรือยัง
ใส่เกลือนิดหน่อย แล้วคนให้เข้ากัน
ในที่สุดเราก็มาถึงทะเลแล้ว!
รถไฟจะออกพรุ่งนี้ตอน 7:30
ฉันหาพาสปอร์ตไม่เจอเลย
แจ็กเก็ตตัวนี้ราคาเท่าไหร่
ว้าว วิวจากตรงนี้สวยมาก!
ขอดูแผนที่อีกทีนะ
อย่าลืมกดไลก์และกดติดตามนะ!
วันนี้เหนื่อยมากเลย
เรานั่งริมหน้าต่างได้ไหม
ร้านอาหารนั้นปิดทุกวันจันทร์
พูดตรงๆ ฉันไม่คิดว่าจะเป็นแบบนี้
รอตรงนี้นะ เดี๋ยวฉันกลับมา
ที่นี่กลิ่นหอมมากเลย
แล้วเจอกันใหม่ครั้งหน้านะ
"""

HI = """
क्या पानी उबल गया?
एक चुटकी नमक डालो, फिर चलाओ।
आख़िरकार हम समुद्र तट पर पहुँच गए!
ट्रेन कल 7:30 बजे छूटेगी।
मुझे अपना पासपोर्ट कहीं नहीं मिल रहा।
यह जैकेट कितने की है?
वाह, यहाँ से नज़ारा कमाल का है!
मुझे एक बार फिर नक्शा देखने दो।
लाइक और सब्सक्राइब करना मत भूलना!
आज मैं बहुत थक गया हूँ
क्या हम खिड़की के पास बैठ सकते हैं?
वह रेस्टोरेंट सोमवार को बंद रहता है।
सच कहूँ, मुझे इसकी उम्मीद नहीं थी
यहीं रुको, मैं अभी आता हूँ।
यहाँ बहुत अच्छी खुशबू आ रही है।
अगली बार फिर मिलेंगे
"""

EL = """
Έβρασε το νερό;
Ρίξε μια πρέζα αλάτι, μετά ανακάτεψε.
Επιτέλους φτάσαμε στην παραλία!
Το τρένο φεύγει αύριο στις 7:30.
Δεν βρίσκω πουθενά το διαβατήριό μου.
Πόσο κάνει αυτό το μπουφάν;
Ουάου, η θέα από εδώ είναι καταπληκτική!
Να ξανακοιτάξω τον χάρτη.
Μην ξεχάσετε να κάνετε λάικ και εγγραφή!
Είμαι πολύ κουρασμένος σήμερα
Μπορούμε να καθίσουμε δίπλα στο παράθυρο;
Το εστιατόριο είναι κλειστό τις Δευτέρες.
Ειλικρινά, δεν το περίμενα αυτό
Περίμενε εδώ, έρχομαι αμέσως.
Μυρίζει πολύ ωραία εδώ μέσα.
Τα λέμε την επόμενη φορά
"""

ES = """
¿Ya está hirviendo el agua?
Añade una pizca de sal, luego remueve.
¡Por fin llegamos a la playa!
El tren sale mañana a las 7:30.
No encuentro mi pasaporte por ningún lado.
¿Cuánto cuesta esta chaqueta?
¡Guau, la vista desde aquí es increíble!
Déjame mirar el mapa otra vez.
¡No olviden darle like y suscribirse!
Hoy estoy muy cansado
¿Podemos sentarnos junto a la ventana?
El restaurante cierra los lunes.
La verdad, no me lo esperaba
Espera aquí, ahora vuelvo.
Aquí huele muy bien.
Nos vemos la próxima vez
"""

FR = """
L'eau bout déjà ?
Ajoute une pincée de sel, puis mélange.
On est enfin arrivés à la plage !
Le train part demain à 7h30.
Je ne trouve mon passeport nulle part.
Combien coûte cette veste ?
Waouh, la vue d'ici est incroyable !
Je vérifie encore une fois la carte.
N'oubliez pas de liker et de vous abonner !
Je suis tellement fatigué aujourd'hui
On peut s'asseoir près de la fenêtre ?
Le restaurant est fermé le lundi.
Franchement, je ne m'y attendais pas
Attends ici, je reviens tout de suite.
Ça sent vraiment bon ici.
À la prochaine, tout le monde
"""

DE = """
Kocht das Wasser schon?
Eine Prise Salz dazu, dann umrühren.
Endlich sind wir am Strand!
Der Zug fährt morgen um 7:30 Uhr ab.
Ich finde meinen Pass nirgends.
Was kostet diese Jacke?
Wow, die Aussicht von hier ist der Wahnsinn!
Ich schau noch mal auf die Karte.
Vergesst nicht zu liken und zu abonnieren!
Ich bin heute so müde
Können wir am Fenster sitzen?
Das Restaurant hat montags geschlossen.
Ehrlich, damit hab ich nicht gerechnet
Warte hier, ich bin gleich zurück.
Hier riecht es richtig gut.
Bis zum nächsten Mal
"""

PT = """
A água já está fervendo?
Coloque uma pitada de sal, depois mexa.
Finalmente chegamos à praia!
O trem sai amanhã às 7:30.
Não acho meu passaporte em lugar nenhum.
Quanto custa essa jaqueta?
Nossa, a vista daqui é incrível!
Deixa eu ver o mapa de novo.
Não se esqueçam de curtir e se inscrever!
Estou tão cansado hoje
Podemos sentar perto da janela?
O restaurante fecha às segundas.
Sinceramente, eu não esperava isso
Espera aqui, já volto.
Está um cheiro muito bom aqui.
Até a próxima, pessoal
"""

TR = """
Su kaynadı mı?
Bir tutam tuz ekle, sonra karıştır.
Sonunda sahile vardık!
Tren yarın 7:30'da kalkıyor.
Pasaportumu hiçbir yerde bulamıyorum.
Bu ceket ne kadar?
Vay, buradan manzara harika!
Haritaya bir daha bakayım.
Beğenmeyi ve abone olmayı unutmayın!
Bugün çok yoruldum
Cam kenarına oturabilir miyiz?
Restoran pazartesileri kapalı.
Açıkçası, bunu hiç beklemiyordum
Burada bekle, hemen geliyorum.
Burası çok güzel kokuyor.
Bir dahaki sefere görüşürüz
"""

# Program titles shown at the top while captions change below (a second caption region).
TITLES = """
Episode 9: Coming Home
Rainy Day Kitchen
Backpacking Through Vietnam
Evening News Update
Island Hopping, Day 3
Our First Apartment
Late Night Snack Run
Season 2 Finale
"""

# Short shop-sign / poster texts in mixed languages, drawn as scene text (not captions).
SIGNS = """
NO PARKING
营业中
ラーメン
편의점
SALE 50% OFF
水果店
本日休業
분식
EXIT
COFFEE & TEA
"""


def pool(lang: str) -> list[str]:
    return [s.strip() for s in globals()[lang.upper()].strip().splitlines() if s.strip()]
