"""Sentences for the mixed benchmark, written for it (no other suite and no training data has
them): the same fourteen everyday lines in each language, so a bilingual stack pairs a line
with its English. Read by ``make_scripts.py``; ``pool("ko")`` is a language's list."""

EN = """
Where did you put the car keys?
The shop on the corner opens at nine.
I think it is going to snow tonight.
My brother is coming home next week.
Could you turn the music down a little?
We missed the bus by two minutes.
This soup tastes better than yesterday.
Nobody answered the phone all morning.
Let's take a photo by the river.
The meeting was moved to Friday afternoon.
Her cat sleeps on the windowsill every day.
I forgot my umbrella at the station.
Turn right after the bridge.
Thank you, that was very kind of you.
"""

ZH = """
你把车钥匙放在哪儿了？
街角那家店九点开门。
我觉得今晚会下雪。
我哥哥下周回家。
你能把音乐关小一点吗？
我们差两分钟没赶上公交车。
这汤比昨天的好喝。
一上午都没人接电话。
我们在河边拍张照吧。
会议改到周五下午了。
她的猫每天都睡在窗台上。
我把伞忘在车站了。
过了桥往右拐。
谢谢，你真是太好了。
"""

RU = """
Куда ты положил ключи от машины?
Магазин на углу открывается в девять.
Кажется, сегодня ночью пойдёт снег.
Мой брат приедет домой на следующей неделе.
Сделай музыку немного потише.
Мы опоздали на автобус на две минуты.
Этот суп вкуснее, чем вчера.
Всё утро никто не брал трубку.
Давай сфотографируемся у реки.
Встречу перенесли на пятницу после обеда.
Её кошка каждый день спит на подоконнике.
Я забыл зонт на вокзале.
После моста поверни направо.
Спасибо, это очень мило с твоей стороны.
"""

KO = """
자동차 열쇠를 어디에 뒀어?
모퉁이 가게는 아홉 시에 문을 열어요.
오늘 밤에 눈이 올 것 같아.
우리 형이 다음 주에 집에 와요.
음악 소리 좀 줄여 줄래?
우리는 2분 차이로 버스를 놓쳤어.
이 국은 어제보다 더 맛있어.
아침 내내 아무도 전화를 안 받았어.
강가에서 사진 한 장 찍자.
회의가 금요일 오후로 옮겨졌어요.
그녀의 고양이는 매일 창가에서 자요.
역에 우산을 두고 왔어.
다리를 지나서 오른쪽으로 가세요.
고마워요, 정말 친절하시네요.
"""

JA = """
車の鍵をどこに置いたの？
角の店は九時に開きます。
今夜は雪が降りそうだね。
兄が来週家に帰ってくる。
音楽を少し小さくしてくれる？
二分の差でバスに乗り遅れた。
このスープは昨日よりおいしい。
午前中ずっと誰も電話に出なかった。
川のそばで写真を撮ろう。
会議は金曜日の午後に変更された。
彼女の猫は毎日窓辺で寝ている。
駅に傘を忘れてしまった。
橋を渡ったら右に曲がって。
ありがとう、本当に優しいね。
"""

VI = """
Bạn để chìa khóa xe ở đâu rồi?
Cửa hàng ở góc phố mở cửa lúc chín giờ.
Tôi nghĩ tối nay trời sẽ có tuyết.
Anh trai tôi sẽ về nhà vào tuần sau.
Bạn vặn nhỏ nhạc một chút được không?
Chúng tôi lỡ xe buýt chỉ hai phút.
Món canh này ngon hơn hôm qua.
Cả buổi sáng không ai nghe máy.
Chúng ta chụp một tấm ảnh bên sông nhé.
Cuộc họp được dời sang chiều thứ Sáu.
Con mèo của cô ấy ngủ bên cửa sổ mỗi ngày.
Tôi để quên ô ở nhà ga.
Qua cầu thì rẽ phải.
Cảm ơn, bạn thật tốt bụng.
"""

AR = """
أين وضعت مفاتيح السيارة؟
يفتح المتجر الذي على الزاوية في التاسعة.
أظن أنها ستثلج الليلة.
سيعود أخي إلى البيت الأسبوع القادم.
هل يمكنك خفض صوت الموسيقى قليلا؟
فاتتنا الحافلة بدقيقتين.
هذا الحساء ألذ من الأمس.
لم يرد أحد على الهاتف طوال الصباح.
لنلتقط صورة بجانب النهر.
تم نقل الاجتماع إلى عصر الجمعة.
قطتها تنام على حافة النافذة كل يوم.
نسيت مظلتي في المحطة.
انعطف يمينا بعد الجسر.
شكرا، هذا لطف كبير منك.
"""

TH = """
คุณวางกุญแจรถไว้ที่ไหน
ร้านตรงหัวมุมเปิดตอนเก้าโมง
ฉันคิดว่าคืนนี้หิมะจะตก
พี่ชายของฉันจะกลับบ้านสัปดาห์หน้า
ช่วยเบาเสียงเพลงลงหน่อยได้ไหม
เราตกรถบัสไปแค่สองนาที
ซุปนี้อร่อยกว่าเมื่อวาน
ทั้งเช้าไม่มีใครรับโทรศัพท์เลย
ไปถ่ายรูปริมแม่น้ำกันเถอะ
การประชุมถูกเลื่อนไปเป็นบ่ายวันศุกร์
แมวของเธอนอนที่ขอบหน้าต่างทุกวัน
ฉันลืมร่มไว้ที่สถานี
ข้ามสะพานแล้วเลี้ยวขวา
ขอบคุณนะ คุณใจดีมาก
"""

HI = """
तुमने गाड़ी की चाबियाँ कहाँ रखीं?
कोने वाली दुकान नौ बजे खुलती है।
मुझे लगता है आज रात बर्फ गिरेगी।
मेरा भाई अगले हफ्ते घर आ रहा है।
क्या तुम संगीत थोड़ा धीमा कर दोगे?
हमारी बस दो मिनट से छूट गई।
यह सूप कल से ज़्यादा स्वादिष्ट है।
सुबह भर किसी ने फ़ोन नहीं उठाया।
चलो नदी के पास एक फ़ोटो लेते हैं।
बैठक शुक्रवार दोपहर तक टाल दी गई।
उसकी बिल्ली हर दिन खिड़की पर सोती है।
मैं स्टेशन पर अपना छाता भूल गया।
पुल के बाद दाएँ मुड़ो।
धन्यवाद, आप बहुत दयालु हैं।
"""

ES = """
¿Dónde dejaste las llaves del coche?
La tienda de la esquina abre a las nueve.
Creo que esta noche va a nevar.
Mi hermano vuelve a casa la semana que viene.
¿Puedes bajar un poco la música?
Perdimos el autobús por dos minutos.
Esta sopa está más rica que ayer.
Nadie contestó el teléfono en toda la mañana.
Hagamos una foto junto al río.
La reunión pasó al viernes por la tarde.
Su gata duerme en la ventana todos los días.
Olvidé el paraguas en la estación.
Gira a la derecha después del puente.
Gracias, eres muy amable.
"""

EL = """
Πού άφησες τα κλειδιά του αυτοκινήτου;
Το μαγαζί στη γωνία ανοίγει στις εννιά.
Νομίζω ότι απόψε θα χιονίσει.
Ο αδελφός μου έρχεται σπίτι την άλλη εβδομάδα.
Μπορείς να χαμηλώσεις λίγο τη μουσική;
Χάσαμε το λεωφορείο για δύο λεπτά.
Αυτή η σούπα είναι πιο νόστιμη από χθες.
Κανείς δεν σήκωσε το τηλέφωνο όλο το πρωί.
Ας βγάλουμε μια φωτογραφία δίπλα στο ποτάμι.
Η συνάντηση μεταφέρθηκε την Παρασκευή το απόγευμα.
Η γάτα της κοιμάται στο περβάζι κάθε μέρα.
Ξέχασα την ομπρέλα μου στον σταθμό.
Μετά τη γέφυρα στρίψε δεξιά.
Ευχαριστώ, είσαι πολύ ευγενικός.
"""

# Program titles shown at the top while captions change below (a second caption region).
TITLES = """
Episode 4: The Long Winter
Morning News Live
Street Food Tour, Part 2
Behind the Scenes
Our Trip to the Mountains
Cooking With Grandma
Weekend Market Special
City Lights at Night
"""


def pool(lang: str) -> list[str]:
    return [s.strip() for s in globals()[lang.upper()].strip().splitlines() if s.strip()]
