"""Caption texts per language, written for the languages benchmark (never used in training)."""

RU = """
Мы должны уйти до того, как начнётся снег.
Ты не видел мою синюю тетрадь?
Последний поезд уходит в одиннадцать.
Кажется, собака хочет поиграть.
Встретимся в кафе после работы.
Никто не сказал мне, что магазин закрыт.
Следи за дорогой, пожалуйста.
Она живёт в этом городе уже много лет.
Передай мне ту белую чашку.
Гонка начнётся через пять минут.
Я никогда не думал, что мы зайдём так далеко.
На следующем углу поверни налево.
Он опять забыл свои ключи.
Ночью эта улица выглядит совсем иначе.
Она неосязаема, как утренний туман.
Подожди, я почти на месте.
Спасибо, что так долго ждали.
Щенок съел целую миску каши.
"""

UK = """
Ми маємо вирушити до того, як стемніє.
Чи бачив ти мій синій зошит?
Останній потяг відходить об одинадцятій.
Здається, цей пес хоче гратися.
Зустрінемося біля вокзалу після роботи.
Ніхто не сказав мені, що крамниця зачинена.
Будь ласка, стеж за дорогою.
Вона живе в цьому місті вже багато років.
Подай мені ту білу чашку.
Перегони почнуться за десять хвилин.
Я ніколи не думав, що ми зайдемо так далеко.
На наступному розі поверни ліворуч.
Він знову забув свої ключі.
Вночі ця вулиця виглядає зовсім інакше.
Дякую, що так довго чекали.
Ще трохи, ми майже на вершині.
"""

BG = """
Трябва да тръгнем, преди да завали сняг.
Виждал ли си синята ми тетрадка?
Последният влак тръгва в единайсет.
Мисля, че кучето иска да си играе.
Да се видим в кафенето след работа.
Никой не ми каза, че магазинът е затворен.
Гледай пътя, моля те.
Тя живее в този град от много години.
Подай ми онази бяла чаша.
Състезанието започва след пет минути.
На следващия ъгъл завий наляво.
Той пак си забрави ключовете.
Нощем тази улица изглежда съвсем различно.
Благодаря, че чакахте толкова дълго.
"""

KO = """
눈이 더 오기 전에 출발해야 해요.
내 파란 공책 어디서 봤어?
마지막 기차는 열한 시에 떠나요.
강아지가 놀고 싶어하는 것 같아.
퇴근하고 카페에서 만나자.
가게가 문을 닫았다고 아무도 말 안 했어.
운전할 때는 앞만 봐.
그녀는 이 도시에서 오래 살았어요.
저 하얀 컵 좀 건네줄래?
경기가 오 분 후에 시작됩니다.
우리가 여기까지 올 줄은 몰랐어.
다음 모퉁이에서 왼쪽으로 가세요.
그는 또 열쇠를 잊어버렸어.
밤이 되면 이 거리는 완전히 달라 보여.
오래 기다려 주셔서 감사합니다.
조금만 더 가면 정상이야.
"""

VI = """
Chúng ta nên đi trước khi tuyết rơi dày hơn.
Bạn có thấy cuốn sổ màu xanh của tôi không?
Chuyến tàu cuối cùng khởi hành lúc mười một giờ.
Hình như con chó muốn chơi đùa.
Gặp nhau ở quán cà phê sau giờ làm nhé.
Không ai nói với tôi là cửa hàng đã đóng cửa.
Hãy chú ý nhìn đường.
Cô ấy đã sống ở thành phố này nhiều năm.
Đưa giúp tôi cái cốc màu trắng kia.
Cuộc đua sẽ bắt đầu sau năm phút nữa.
Tôi chưa bao giờ nghĩ chúng ta đi được xa thế này.
Rẽ trái ở góc đường tiếp theo.
Anh ấy lại quên chìa khóa rồi.
Con phố này trông rất khác vào ban đêm.
Chúng tôi đang đi tìm câu trả lời của nhà thiết kế.
Cảm ơn vì đã chờ lâu như vậy.
"""

JA = """
雪がひどくなる前に出発しよう。
私の青いノートを見なかった？
最終電車は十一時に出ます。
犬が遊びたがっているみたい。
仕事の後でカフェで会いましょう。
店が閉まっているなんて誰も言わなかった。
前をちゃんと見て運転して。
彼女はこの町に長く住んでいます。
その白いカップを取ってくれる？
レースはあと五分で始まります。
次の角を左に曲がってください。
彼はまた鍵を忘れた。
夜になるとこの通りはまるで違って見える。
長い間待ってくれてありがとう。
"""

ES = """
Deberíamos irnos antes de que nieve más.
¿Has visto mi cuaderno azul?
El último tren sale a las once.
Creo que el perro quiere jugar.
Nos vemos en la cafetería después del trabajo.
Nadie me dijo que la tienda estaba cerrada.
Él olvidó sus llaves otra vez.
Gracias por esperar tanto tiempo.
La carrera empieza en cinco minutos.
Esta calle parece distinta por la noche.
"""

FR = """
Nous devrions partir avant la tempête de neige.
Où est passé mon cahier bleu ?
Le dernier train part à vingt-trois heures.
Je crois que le chien veut jouer.
On se retrouve au café après le travail.
Personne ne savait que le magasin était fermé.
Il a encore oublié ses clés.
Merci beaucoup pour votre patience.
La course commence dans cinq minutes.
Cette rue est très différente la nuit.
Ça fait déjà trois heures que nous marchons.
"""

DE = """
Wir sollten losfahren, bevor es stärker schneit.
Hast du mein blaues Heft gesehen?
Der letzte Zug fährt um elf Uhr.
Ich glaube, der Hund möchte spielen.
Wir treffen uns nach der Arbeit im Café.
Niemand hat mir gesagt, dass der Laden zu ist.
Er hat schon wieder seine Schlüssel vergessen.
Vielen Dank, dass Sie so lange gewartet haben.
Das Rennen beginnt in fünf Minuten.
Diese Straße sieht nachts ganz anders aus.
Größere Städte schlafen nie wirklich.
"""

PL = """
Powinniśmy wyjść, zanim spadnie więcej śniegu.
Widziałeś gdzieś mój niebieski zeszyt?
Ostatni pociąg odjeżdża o jedenastej.
Chyba pies chce się bawić.
Spotkajmy się w kawiarni po pracy.
Nikt mi nie powiedział, że sklep jest zamknięty.
Znowu zapomniał kluczy.
Dziękuję, że czekaliście tak długo.
Wyścig zaczyna się za pięć minut.
Ta ulica wygląda nocą zupełnie inaczej.
Zażółć gęślą jaźń.
"""

TR = """
Kar daha da artmadan yola çıkmalıyız.
Mavi defterimi bir yerde gördün mü?
Son tren saat on birde kalkıyor.
Sanırım köpek oyun oynamak istiyor.
İşten sonra kafede buluşalım.
Kimse bana dükkânın kapalı olduğunu söylemedi.
Anahtarlarını yine unuttu.
Bu kadar uzun beklediğiniz için teşekkürler.
Yarış beş dakika içinde başlıyor.
Bu sokak gece bambaşka görünüyor.
"""

PT = """
Devíamos sair antes que a neve piore.
Você viu o meu caderno azul?
O último trem sai às onze horas.
Acho que o cachorro quer brincar.
Vamos nos encontrar no café depois do trabalho.
Ninguém me disse que a loja estava fechada.
Ele esqueceu as chaves outra vez.
Obrigado por esperarem tanto tempo.
A corrida começa em cinco minutos.
Esta rua parece diferente à noite.
"""


def pool(lang: str) -> list[str]:
    return [s.strip() for s in globals()[lang.upper()].strip().splitlines() if s.strip()]

# Arabic, Devanagari (Hindi), Thai, Greek and Hebrew: one clip each (the other_scripts clips).

AR = """
هل رأيت دفتري الأزرق؟
آخر قطار يغادر في الحادية عشرة.
يبدو أن الكلب يريد أن يلعب.
لنلتق في المقهى بعد العمل.
لم يخبرني أحد أن المتجر مغلق.
انتبه للطريق من فضلك.
تعيش في هذه المدينة منذ سنوات.
ناولني ذلك الفنجان الأبيض.
سيبدأ السباق بعد خمس دقائق.
انعطف يسارا عند الزاوية التالية.
نسي مفاتيحه مرة أخرى.
انتظر، أنا على وشك الوصول.
شكرا لانتظاركم كل هذا الوقت.
الجو بارد جدا هذا الصباح.
"""

HI = """
क्या तुमने मेरी नीली कॉपी देखी?
आखिरी ट्रेन ग्यारह बजे जाती है।
लगता है कुत्ता खेलना चाहता है।
काम के बाद कैफे में मिलते हैं।
किसी ने मुझे नहीं बताया कि दुकान बंद है।
कृपया सड़क पर ध्यान दो।
वह कई सालों से इस शहर में रहती है।
मुझे वह सफेद कप दे दो।
दौड़ पाँच मिनट में शुरू होगी।
अगले मोड़ पर बाएँ मुड़ना।
वह फिर से अपनी चाबियाँ भूल गया।
रुको, मैं लगभग पहुँच गया हूँ।
इतनी देर इंतज़ार करने के लिए धन्यवाद।
आज सुबह बहुत ठंड है।
"""

TH = """
คุณเห็นสมุดสีน้ำเงินของฉันไหม
รถไฟขบวนสุดท้ายออกตอนห้าทุ่ม
ดูเหมือนสุนัขอยากจะเล่น
เจอกันที่ร้านกาแฟหลังเลิกงาน
ไม่มีใครบอกฉันว่าร้านปิดแล้ว
ช่วยดูถนนด้วยนะ
เธออาศัยอยู่ในเมืองนี้มาหลายปีแล้ว
ส่งแก้วสีขาวใบนั้นให้หน่อย
การแข่งขันจะเริ่มในอีกห้านาที
เลี้ยวซ้ายที่หัวมุมถัดไป
เขาลืมกุญแจอีกแล้ว
รอก่อน ฉันใกล้จะถึงแล้ว
ขอบคุณที่รอนานขนาดนี้
เช้านี้อากาศหนาวมาก
"""

EL = """
Είδες το μπλε τετράδιό μου;
Το τελευταίο τρένο φεύγει στις έντεκα.
Νομίζω ότι ο σκύλος θέλει να παίξει.
Ας βρεθούμε στο καφέ μετά τη δουλειά.
Κανείς δεν μου είπε ότι το μαγαζί είναι κλειστό.
Πρόσεχε τον δρόμο, σε παρακαλώ.
Μένει σε αυτή την πόλη πολλά χρόνια.
Δώσε μου εκείνο το άσπρο φλιτζάνι.
Ο αγώνας αρχίζει σε πέντε λεπτά.
Στρίψε αριστερά στην επόμενη γωνία.
Ξέχασε πάλι τα κλειδιά του.
Περίμενε, σχεδόν έφτασα.
Ευχαριστώ που περιμένατε τόσο πολύ.
Κάνει πολύ κρύο σήμερα το πρωί.
"""

HE = """
ראית את המחברת הכחולה שלי?
הרכבת האחרונה יוצאת באחת עשרה.
נראה שהכלב רוצה לשחק.
ניפגש בבית הקפה אחרי העבודה.
אף אחד לא אמר לי שהחנות סגורה.
תסתכל על הכביש, בבקשה.
היא גרה בעיר הזאת כבר הרבה שנים.
תעביר לי את הכוס הלבנה הזאת.
המרוץ יתחיל בעוד חמש דקות.
פנה שמאלה בפינה הבאה.
הוא שכח שוב את המפתחות שלו.
חכה, אני כמעט שם.
תודה שחיכיתם כל כך הרבה זמן.
קר מאוד הבוקר.
"""
