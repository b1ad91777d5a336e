// Tests for evals/ifeval_language.ts. The expected codes are langdetect 1.0.9's verdicts
// (Python 3.11), kept only where langdetect gives the same answer under DetectorFactory.seed 0
// to 9; the last test pins down where this detector knowingly differs.

import { equal } from "node:assert/strict";
import { detectLanguage } from "./ifeval_language.ts";

/** [text, langdetect.detect(text), null where it raises LangDetectException]. */
const LANGDETECT: readonly (readonly [string, string | null])[] = [
  ["The weather is nice today and we are going to the park with our children.", "en"],
  ["El tiempo está muy bien hoy y vamos al parque con nuestros hijos.", "es"],
  ["O tempo está muito bom hoje e nós vamos ao parque com os nossos filhos.", "pt"],
  ["Il fait très beau aujourd'hui et nous allons au parc avec nos enfants.", "fr"],
  ["Das Wetter ist heute sehr schön und wir gehen mit unseren Kindern in den Park.", "de"],
  ["Il tempo è molto bello oggi e andiamo al parco con i nostri bambini.", "it"],
  ["Pogoda jest dziś bardzo ładna i idziemy do parku z naszymi dziećmi.", "pl"],
  ["Hôm nay thời tiết rất đẹp và chúng tôi sẽ đi công viên với các con.", "vi"],
  ["Hali ya hewa ni nzuri leo na tunakwenda kwenye bustani pamoja na watoto wetu.", "sw"],
  ["Sää on tänään todella kaunis ja menemme puistoon lastemme kanssa.", "fi"],
  ["Сегодня очень хорошая погода, и мы идём в парк с нашими детьми.", "ru"],
  ["Сьогодні дуже гарна погода, і ми йдемо до парку з нашими дітьми.", "uk"],
  ["Днес времето е много хубаво и отиваме в парка с нашите деца.", "bg"],
  ["الطقس جميل جدا اليوم ونحن ذاهبون إلى الحديقة مع أطفالنا.", "ar"],
  ["امروز هوا خیلی خوب است و ما با بچه‌هایمان به پارک می‌رویم.", "fa"],
  ["آج موسم بہت اچھا ہے اور ہم اپنے بچوں کے ساتھ پارک جا رہے ہیں۔", "ur"],
  ["מזג האוויר היום יפה מאוד ואנחנו הולכים לפארק עם הילדים שלנו.", "he"],
  ["आज मौसम बहुत अच्छा है और हम अपने बच्चों के साथ पार्क जा रहे हैं।", "hi"],
  ["आज हवामान खूप छान आहे आणि आम्ही आमच्या मुलांसोबत उद्यानात जात आहोत.", "mr"],
  ["आज मौसम धेरै राम्रो छ र हामी हाम्रा बच्चाहरूसँग पार्कमा जाँदैछौं।", "ne"],
  ["আজ আবহাওয়া খুব সুন্দর এবং আমরা আমাদের বাচ্চাদের সাথে পার্কে যাচ্ছি।", "bn"],
  ["ਅੱਜ ਮੌਸਮ ਬਹੁਤ ਵਧੀਆ ਹੈ ਅਤੇ ਅਸੀਂ ਆਪਣੇ ਬੱਚਿਆਂ ਨਾਲ ਪਾਰਕ ਜਾ ਰਹੇ ਹਾਂ।", "pa"],
  ["આજે હવામાન ખૂબ સરસ છે અને અમે અમારા બાળકો સાથે બગીચામાં જઈ રહ્યા છીએ.", "gu"],
  ["இன்று வானிலை மிகவும் நன்றாக உள்ளது, நாங்கள் எங்கள் குழந்தைகளுடன் பூங்காவிற்கு செல்கிறோம்.", "ta"],
  ["ఈ రోజు వాతావరణం చాలా బాగుంది మరియు మేము మా పిల్లలతో పార్కుకు వెళ్తున్నాము.", "te"],
  ["ಇಂದು ಹವಾಮಾನ ತುಂಬಾ ಚೆನ್ನಾಗಿದೆ ಮತ್ತು ನಾವು ನಮ್ಮ ಮಕ್ಕಳೊಂದಿಗೆ ಉದ್ಯಾನಕ್ಕೆ ಹೋಗುತ್ತಿದ್ದೇವೆ.", "kn"],
  ["ഇന്ന് കാലാവസ്ഥ വളരെ നല്ലതാണ്, ഞങ്ങൾ ഞങ്ങളുടെ കുട്ടികളോടൊപ്പം പാർക്കിലേക്ക് പോകുന്നു.", "ml"],
  ["วันนี้อากาศดีมากและเรากำลังจะไปสวนสาธารณะกับลูกๆ ของเรา", "th"],
  ["今日はとても良い天気なので、子供たちと一緒に公園に行きます。", "ja"],
  ["오늘은 날씨가 아주 좋아서 우리 아이들과 함께 공원에 갑니다.", "ko"],
  ["今天天气很好，我们和孩子们一起去公园。", "zh-cn"],
  ["Het weer is vandaag erg mooi en we gaan met onze kinderen naar het park.", "nl"],
  ["Cuaca hari ini sangat bagus dan kami pergi ke taman bersama anak-anak kami.", "id"],
  ["Bugün hava çok güzel ve çocuklarımızla birlikte parka gidiyoruz.", "tr"],
  ["THE WEATHER IS NICE TODAY AND WE ARE GOING TO THE PARK WITH OUR CHILDREN.", "en"],
  ["what are the boys holding?", "en"],
  ["12345 !!! ???", null],
  ["Hello, this is mostly English text with un peu de français.", "en"],
  ["😀 😃 😄", null],
  ["I LOVE MY MOM SO MUCH. SHE IS THE BEST!", "en"],
  [
    "My favourite book is a long novel about a family who moved to a small town after the war.",
    "en",
  ],
  [
    "Mi libro favorito es una novela larga sobre una familia que se mudó a un pueblo pequeño después de la guerra.",
    "es",
  ],
  [
    "O meu livro favorito é um romance longo sobre uma família que se mudou para uma pequena cidade depois da guerra.",
    "pt",
  ],
  [
    "Mein Lieblingsbuch ist ein langer Roman über eine Familie, die nach dem Krieg in eine kleine Stadt zog.",
    "de",
  ],
  [
    "Il mio libro preferito è un lungo romanzo su una famiglia che si è trasferita in una piccola città dopo la guerra.",
    "it",
  ],
  [
    "Mon livre préféré est un long roman sur une famille qui a déménagé dans une petite ville après la guerre.",
    "fr",
  ],
  [
    "Moja ulubiona książka to długa powieść o rodzinie, która po wojnie przeprowadziła się do małego miasteczka.",
    "pl",
  ],
  ["Lempikirjani on pitkä romaani perheestä, joka muutti sodan jälkeen pieneen kaupunkiin.", "fi"],
  [
    "Kitabu changu ninachokipenda ni riwaya ndefu kuhusu familia iliyohamia mji mdogo baada ya vita.",
    "sw",
  ],
  [
    "Cuốn sách yêu thích của tôi là một cuốn tiểu thuyết dài về một gia đình chuyển đến một thị trấn nhỏ sau chiến tranh.",
    "vi",
  ],
  [
    "Моя любимая книга — длинный роман о семье, которая после войны переехала в маленький город.",
    "ru",
  ],
  [
    "Моя улюблена книга — довгий роман про родину, яка після війни переїхала до маленького міста.",
    "uk",
  ],
  [
    "Любимата ми книга е дълъг роман за семейство, което след войната се премести в малък град.",
    "bg",
  ],
  ["كتابي المفضل رواية طويلة عن عائلة انتقلت إلى بلدة صغيرة بعد الحرب.", "ar"],
  [
    "کتاب مورد علاقه من یک رمان طولانی درباره خانواده‌ای است که پس از جنگ به شهری کوچک نقل مکان کرد.",
    "fa",
  ],
  [
    "میری پسندیدہ کتاب ایک طویل ناول ہے جو ایک خاندان کے بارے میں ہے جو جنگ کے بعد ایک چھوٹے شہر میں منتقل ہو گیا۔",
    "ur",
  ],
  [
    "मेरी पसंदीदा किताब एक लंबा उपन्यास है जो एक परिवार के बारे में है जो युद्ध के बाद एक छोटे शहर में चला गया।",
    "hi",
  ],
  ["माझे आवडते पुस्तक एक दीर्घ कादंबरी आहे जी युद्धानंतर एका लहान गावात राहायला गेलेल्या कुटुंबाबद्दल आहे.", "mr"],
  ["मेरो मनपर्ने किताब एउटा लामो उपन्यास हो जुन युद्धपछि सानो सहरमा सरेको परिवारको बारेमा छ।", "ne"],
  ["* First point about cats\n* Second point about dogs\n* Third point: birds are nice", "en"],
  ["the moon is bright tonight\nand the stars are shining too\ni miss you", "en"],
  ["Sí, claro que sí.", "es"],
  ["rushing to my work\nthe train leaves without me now\ncoffee spills again", "en"],
  ["घाईघाईने कामाला जातो\nगाडी सुटली आहे\nमन अस्वस्थ झाले", "mr"],
  ["नेपाल एक सुन्दर देश हो। यहाँ धेरै हिमालहरू छन् र मानिसहरू मिलनसार छन्।", "ne"],
  ["햄버거는 샌드위치인가요? 많은 사람들이 그렇게 생각하지 않습니다.", "ko"],
  ["ಹ್ಯಾಂಬರ್ಗರ್‌ಗಳು ಸ್ಯಾಂಡ್‌ವಿಚ್‌ಗಳೇ? ಇದು ಆಸಕ್ತಿದಾಯಕ ಪ್ರಶ್ನೆ.", "kn"],
  ['{"name": "Alice", "age": 30, "city": "Paris"}', "en"],
];

Deno.test("detectLanguage: agrees with langdetect on text in IFEval's languages and their neighbours", () => {
  const wrong = LANGDETECT.filter(([text, want]) => detectLanguage(text) !== want)
    .map(([text, want]) => `${want}: ${detectLanguage(text)} for ${JSON.stringify(text)}`);
  equal(wrong.join("\n"), "");
});

Deno.test("detectLanguage: where it knowingly differs from langdetect (docs/metrics.md, IFEval)", () => {
  // langdetect skips every letter of an all-caps word after the first, so short capitals are
  // noise to it ("so", Somali) and long Spanish capitals mostly "en"; this detector reads words.
  equal(detectLanguage("HELLO WORLD"), "en");
  equal(
    detectLanguage(
      "EL TIEMPO ESTÁ MUY BIEN HOY Y VAMOS AL PARQUE CON NUESTROS HIJOS Y NUESTRAS HIJAS, PERO MAÑANA LLOVERÁ EN TODA LA CIUDAD.",
    ),
    "es",
  );
  // Too short to tell: langdetect answers "fi" or "nl" depending on its seed; Latin text without
  // any function word is English here.
  equal(detectLanguage("hello"), "en");
  // Scripts no profile holds give no features (null), as they give langdetect none (Ethiopic,
  // Sinhala, Khmer, Myanmar); Armenian and Georgian letters are in its Estonian profile.
  equal(detectLanguage("ሰላም ልዑል"), null);
  equal(detectLanguage("ආයුබෝවන් ලෝකය"), null);
  equal(detectLanguage("Բարեւ աշխարհ"), "et");
  equal(detectLanguage("გამარჯობა მსოფლიო"), "et");
});
