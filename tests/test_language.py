"""The reply language follows the question, then the platform hint, then the user's /lang."""

import pytest

from tests.conftest import Chat


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("who leads WASH", "en"),
        ("健康集群由谁牵头？", "zh"),
        ("Qui dirige le cluster santé ?", "fr"),
        ("¿Quién lidera el clúster de logística?", "es"),
        ("من يقود مجموعة الصحة؟", "ar"),
        ("nutriton clustr lead?", "en"),
        ("WASH集群谁负责", "zh"),
        # A name in Latin letters does not make the question's own words English.
        ("مين بيقود health cluster", "ar"),
        ("shelter cluster 谁牵头", "zh"),
        # Words only one language's questions use ("conflicto") tell close languages apart.
        ("la OIM dirige CCCM en un conflicto armado", "es"),
        # So do a cluster's or an agency's name in one language, even typed alone.
        ("santé ?", "fr"),
        ("salud?", "es"),
        ("logistique", "fr"),
        ("le PAM", "fr"),
        ("el PMA", "es"),
    ],
)
def test_reply_follows_the_question(chat: Chat, question: str, lang: str) -> None:
    chat(question)
    assert chat.last is not None
    assert chat.last.lang == lang
    assert chat.last.intent in {"who_leads", "agency_clusters"}


def test_lang_preference_is_remembered_per_user(chat_as) -> None:  # type: ignore[no-untyped-def]
    alice, bob = chat_as("console:alice"), chat_as("console:bob")
    assert "en français" in alice("/lang fr")  # a language named in a sentence: no capital
    alice("WASH?")
    assert alice.last.lang == "fr"
    bob("WASH?")
    assert bob.last.lang == "en"
    # A question that shows its language still gets an answer in that language.
    alice("¿Quién lidera el clúster de salud?")
    assert alice.last.lang == "es"


def test_the_language_chosen_first_beats_the_platform_hint(chat: Chat) -> None:
    chat("/lang fr")  # the first message: no question before it
    chat("WASH?", locale="es-ES")
    assert chat.last is not None and chat.last.lang == "fr"


def test_platform_hint_serves_when_no_language_was_chosen(chat: Chat) -> None:
    chat("WASH?", locale="es-ES")
    assert chat.last is not None and chat.last.lang == "es"


def test_lang_without_code_offers_buttons(chat: Chat) -> None:
    chat("/lang")
    assert chat.last is not None
    assert [c.action for c in chat.last.choices] == [
        "lang:en",
        "lang:zh",
        "lang:fr",
        "lang:es",
        "lang:ar",
    ]
    chat(action="lang:ar")
    assert chat.last.lang == "ar"


def test_a_message_that_shows_no_language_answers_in_the_last_questions(chat: Chat) -> None:
    chat("¿qué significa HRP?")
    chat("HNO?")
    assert chat.last is not None and chat.last.lang == "es"
    chat("ERC?")  # still Spanish: the reply language is what is kept
    assert chat.last is not None and chat.last.lang == "es"


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "test test", "lorem ipsum dolor"])
def test_words_of_no_language_keep_the_chosen_language(chat: Chat, text: str) -> None:
    # Letters alone are no language: a guess from them answered a French user in Spanish.
    chat("/lang fr")
    chat(text)
    assert chat.last is not None and chat.last.lang == "fr", chat.last
    chat("HRP = ?")
    assert chat.last is not None and chat.last.lang == "fr"


@pytest.mark.parametrize("text", ["situation?", "top clusters", "media", "control", "sites"])
def test_an_english_word_that_another_file_also_holds_marks_no_other_language(
    chat: Chat, text: str
) -> None:
    chat(text)
    assert chat.last is not None and chat.last.lang == "en"


def test_a_command_answers_in_the_language_of_the_conversation(chat: Chat) -> None:
    chat("qui dirige le cluster santé ?")
    for command in ("/help", "/whoami"):
        chat(command)
        assert chat.last is not None and chat.last.lang == "fr", command


@pytest.mark.parametrize("question", ["who leads health?", "qui dirige le cluster santé ?"])
@pytest.mark.parametrize("typed", ["/lan fr", "/lan es", "/lan ar", "/hlep zh"])
def test_an_unknown_command_answers_in_the_conversations_language(
    chat: Chat, question: str, typed: str
) -> None:
    # Not in the language its argument names or its words look like: it is no command of ours.
    chat(question)
    spoken = chat.last.lang if chat.last else None
    answer = chat(typed)
    assert chat.last is not None and chat.last.lang == spoken, answer
    assert typed.split()[0] in answer


@pytest.mark.parametrize("marks", ["؟", "،", "؟؟ ...", "٣؟"])
def test_arabic_punctuation_alone_is_no_language(chat: Chat, marks: str) -> None:
    chat("qui dirige le cluster santé ?")
    chat(marks)
    assert chat.last is not None and chat.last.lang == "fr"
    assert "Désolé" in chat("...")  # still the conversation's language


def test_the_language_chosen_is_the_conversations_from_then_on(chat: Chat) -> None:
    chat("qui dirige le cluster santé ?")
    assert "English" in chat("/lang en")
    chat("HRP?")
    assert chat.last is not None and chat.last.lang == "en"
    chat("/help")
    assert chat.last is not None and chat.last.lang == "en"


def test_a_question_in_the_checklist_is_answered_in_its_language(chat: Chat) -> None:
    chat("/checklist")
    answer = chat("qui dirige le cluster santé ?")
    assert "Organisation mondiale de la Santé" in answer, answer
    # The checklist goes on in the language the user now writes.
    assert "De quel pays" in answer, answer
    # "/lang en" mid-checklist: "en" is the code, not Spanish for "in".
    assert "que s'est-il passé" in chat("Niger")
    assert "Back to your activation checklist" in chat("/lang en")


def test_a_follow_up_opened_with_an_inverted_mark_is_spanish(chat: Chat) -> None:
    chat("who leads health in Sudan?")
    answer = chat("¿y en Venezuela?")  # the country's name is English too; "¿" is not
    assert chat.last is not None and chat.last.lang == "es", answer
    assert "Venezuela" in answer and "Salud" in answer


def test_a_language_chosen_holds_after_a_question_in_another(chat_as) -> None:  # type: ignore[no-untyped-def]
    alice = chat_as("console:alice")
    alice("/lang fr")
    assert alice("who leads wash").count("UNICEF") and alice.last.lang == "en"  # its own
    assert "Votre langue actuelle : fr." in alice("/lang")  # the choice, not the last question's


@pytest.mark.parametrize(
    ("question", "line"),
    [
        # Iraqi/Gulf "how" (شلون), "what" (وش), and "activate" (نشغل); the Levantine cluster (كتلة).
        ("شلون نشغل الكتلة؟ وش الإجراءات من البداية للنهاية", "الخطوات الثماني لتفعيل المجموعات"),
        # Egyptian "how" (إزاي) and a spoken present tense (بنشغل).
        ("إزاي بنشغل الكلستر في البلد؟ إيه الخطوات بالترتيب", "الخطوات الثماني لتفعيل المجموعات"),
        # "I want a list with all" (عايز قايمة بكل).
        ("عايز قايمة بكل الكتل العالمية", "التعليم"),
        # "Who holds" (منو ماسك) a cluster leads it.
        ("منو ماسك كتلة الصحة؟", "منظمة الصحة العالمية"),
        # "Look again at" (نعيد النظر) is a review: within 3 months of a sudden-onset crisis.
        ("إمتى لازم يعيدوا النظر في الكتل بعد الإعصار؟", "في غضون 3 أشهر"),
        # "Who's the ERC" (منو الـ ERC): the post.
        ("منو الـ ERC؟", "منسق الإغاثة في حالات الطوارئ ومنسق الشؤون الإنسانية"),
    ],
)
def test_spoken_arabic_asks_as_the_standard_language_does(
    chat: Chat, question: str, line: str
) -> None:
    answer = chat(question)
    assert line in answer, answer
    assert chat.last is not None and chat.last.intent not in ("unknown", "acronym"), answer


def test_spoken_arabic_and_with_a_country_follows_up(chat: Chat) -> None:
    # "وبالسودان؟": "and" and "in" written onto "the Sudan".
    chat("مين ماسك كتلة المياه والصرف الصحي بلبنان")
    answer = chat("وبالسودان؟")
    assert "السودان" in answer and "UNICEF" in answer, answer


@pytest.mark.parametrize(
    "question",
    ["بدنا نفعل مجموعة، شلون", "نريد تفعيل مجموعة ازاي", "نحتاج تفعيل مجموعة، ايش الخطوات"],
)
def test_a_wish_to_activate_asked_how_in_spoken_arabic_gets_the_procedure(
    chat: Chat, question: str
) -> None:
    # "شلون", "إزاي" (how), "إيش" (what) ask as "كيف" does: the steps, not the checklist.
    answer = chat(question)
    assert "الخطوات الثماني لتفعيل المجموعات" in answer, answer
