"""Follow-ups on a numbered line or a topic: the line before or after, a line past the end,
"why?", who/when/what-if of "that", and an acronym asked after a lead question."""

import pytest

from tests.conftest import Chat


@pytest.mark.parametrize(
    ("first", "then", "title"),
    [
        ("what is step 3 of the activation?", "and the previous one?", "step 2 of 8"),
        ("what is step 3 of the activation?", "what about the next step?", "step 4 of 8"),
        ("what is step 3 of the activation?", "and after that?", "step 4 of 8"),
        ("cual es el paso 3", "y despues?", "paso 4 de 8"),
        ("cual es el paso 3", "y el anterior?", "paso 2 de 8"),
        ("quelle est l'étape 3", "et l'étape d'avant ?", "étape 2 sur 8"),
        ("quelle est l'étape 3", "et après ?", "étape 4 sur 8"),
        ("第三步是什么", "上一步呢", "第 2 步"),
        ("第三步是什么", "然后呢", "第 4 步"),
        ("ما هي الخطوة 3", "والخطوة السابقة؟", "الخطوة 2 من 8"),
        ("ما هي الخطوة 3", "وبعدين", "الخطوة 4 من 8"),
        ("what is the third core function", "previous", "Core function 2 of 6"),
        ("what is step 5 of the activation?", "and the next one?", "step 6 of 8"),
        ("cual es el paso 6 de la activacion", "y el siguiente?", "paso 7 de 8"),
        ("c'est quoi l'étape 3 de l'activation ?", "et la suivante ?", "étape 4 sur 8"),
        ("第三步是什么", "下一步呢", "第 4 步"),
        ("ما هي الخطوة الثانية", "والخطوة التالية؟", "الخطوة 3 من 8"),
        ("what is the third core function", "next", "Core function 4 of 6"),
    ],
)
def test_the_line_before_or_after_the_one_shown(
    chat: Chat, first: str, then: str, title: str
) -> None:
    assert title in chat.ask(first, then).splitlines()[0]


@pytest.mark.parametrize(
    ("first", "then"),
    [("what is step 1?", "and the previous one?"), ("what is step 8?", "and the next one?")],
)
def test_the_one_before_the_first_step_or_after_the_last_is_the_whole_procedure(
    chat: Chat, first: str, then: str
) -> None:
    assert chat.ask(first, then).startswith("The eight steps to activate clusters")


def test_a_step_after_a_lead_question_is_still_followed(chat: Chat) -> None:
    answer = chat.ask("who leads wash?", "what is step 3 of the activation?", "next?")
    assert "step 4 of 8" in answer.splitlines()[0]


@pytest.mark.parametrize(
    ("first", "then", "said"),
    [
        ("what is step 3", "step 9", "There is no step 9: the procedure has 8 steps."),
        ("what is step 3", "and step 9?", "There is no step 9"),
        ("", "第九步", "没有第 9 步：启动程序共有 8 步。"),
        ("", "what is core function 7", "There is no core function 7: a cluster has 6"),
        ("", "what is responsibility 14", "There is no responsibility 14"),
        ("", "la etapa 12", "No hay paso 12: el procedimiento tiene 8 pasos."),
    ],
)
def test_a_line_past_the_end_says_how_many_there_are(
    chat: Chat, first: str, then: str, said: str
) -> None:
    if first:
        chat(first)
    answer = chat.ask(then, intent="concept")
    assert answer.startswith(said), answer


def test_a_chinese_ordinal_of_a_responsibility_is_its_line(chat: Chat) -> None:
    answer = chat("集群牵头机构的第五项职责是什么")
    assert "第 5 项（共 13 项）" in answer, answer
    assert "五项" not in answer.splitlines()[0], answer


@pytest.mark.parametrize(
    ("first", "then", "said"),
    [
        ("what is step 2 of the activation?", "why?", "so that they can take part"),
        ("what is provider of last resort", "¿por qué?", "brechas críticas"),
        (
            "une ONG co-lead est elle fournisseur de dernier recours ?",
            "pourquoi ?",
            "ne reprend ni la redevabilité",
        ),
        ("when is a cluster deactivated?", "why?", "no longer hold"),
    ],
)
def test_why_gets_the_passage_that_says_why(chat: Chat, first: str, then: str, said: str) -> None:
    assert said in chat.ask(first, then)


@pytest.mark.parametrize(
    ("first", "then", "said"),
    [
        ("what is step 3 of the activation?", "why?", "My knowledge base does not say why"),
        ("第三步是什么", "为什么", "我的知识库没有说明原因"),
        ("ما هي الخطوة 3", "ليش؟", "قاعدة معارفي لا تذكر السبب"),
        ("what are the core functions of a cluster", "why?", "does not say why"),
    ],
)
def test_why_of_a_subject_without_a_reason_says_so(
    chat: Chat, first: str, then: str, said: str
) -> None:
    answer = chat.ask(first, then)
    assert said in answer, answer
    # Neither the aims nor the whole procedure again.
    assert "four aims" not in answer and "The eight steps" not in answer.splitlines()[0]


@pytest.mark.parametrize(
    ("first", "then", "said", "never"),
    [
        ("when is a cluster deactivated", "who decides that?", "HC agrees", "Principals"),
        ("when is a cluster deactivated", "y quien lo decide?", "HC acuerda", "Principals"),
        ("quand un cluster est-il désactivé ?", "et qui le décide ?", "CH convient", "Principals"),
        ("what is provider of last resort", "what if there's no money?", "has limits", "HRP"),
        (
            "what is provider of last resort",
            "does that apply to NGO co-leads?",
            "nor its duty as provider of last resort",
            "can co-lead or co-coordinate",
        ),
        ("que es la transicion de un cluster", "cuanto tiempo despues?", "90", "24 horas"),
    ],
)
def test_a_short_follow_up_asks_of_the_last_topic(
    chat: Chat, first: str, then: str, said: str, never: str
) -> None:
    answer = chat.ask(first, then)
    assert said in answer, answer
    assert never not in answer, answer


@pytest.mark.parametrize(
    ("lead", "asked", "meaning"),
    [
        ("quien lidera WASH", "que significa OCHA", "Oficina de las Naciones Unidas"),
        ("who leads WASH", "what is OCHA", "UN Office for the Coordination"),
        ("谁牵头WASH", "OCHA是什么意思", "联合国人道主义事务协调厅"),
        ("مين يقود WASH", "شو يعني OCHA", "مكتب الأمم المتحدة لتنسيق الشؤون الإنسانية"),
        ("qui dirige le cluster WASH", "OCHA c'est quoi", "Bureau de la coordination"),
    ],
)
def test_an_acronym_asked_after_a_lead_question_is_the_acronym(
    chat: Chat, lead: str, asked: str, meaning: str
) -> None:
    answer = chat.ask(lead, asked, intent="acronym")
    assert meaning in answer, answer


def test_an_agency_named_alone_after_a_lead_question_is_still_a_yes_or_no(chat: Chat) -> None:
    assert chat.ask("who leads WASH", "what about OCHA?").startswith("No:")


@pytest.mark.parametrize(
    "asked", ["what happens after the ERC gets it", "and after the erc got the letter?"]
)
def test_after_the_erc_gets_the_letter_is_step_6(chat: Chat, asked: str) -> None:
    assert "step 6 of 8" in chat(asked).splitlines()[0]


def test_a_lead_word_after_a_topic_still_follows_the_lead_question(chat: Chat) -> None:
    chat("who leads education")
    chat("what is provider of last resort")
    assert "Save the Children" in chat("and who co-leads?")


@pytest.mark.parametrize(
    ("first", "then", "said", "named"),
    [
        ("who leads health", "why?", "does not say why", "Health"),
        ("what does UNICEF lead?", "why?", "does not say why", "UNICEF"),
        ("quién lidera la protección", "¿por qué?", "no dice por qué", "Protección"),
        ("谁牵头卫生集群", "为什么", "没有说明原因", "卫生"),
        ("مين بيقود الصحة", "ليش؟", "لا تذكر السبب", "الصحة"),
    ],
)
def test_why_after_a_lead_answer_says_we_hold_no_reason(
    chat: Chat, first: str, then: str, said: str, named: str
) -> None:
    # Who leads is a fact of ours; why that agency leads is in none of our texts: said so, of
    # that lead, with no topic offered as if it were the reason (the aims are not one).
    chat(first)
    answer = chat(then)
    assert chat.last is not None and chat.last.intent == "no_reason", answer
    assert said in answer and named in answer, answer
    assert "four aims" not in answer and not chat.last.choices, answer


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        # A line named by its number, and the word that asks the one before or after it.
        ("what comes before step 5", "step_4"),
        ("quelle étape précède l'étape 4 ?", "step_3"),
        ("¿qué paso viene antes del paso 3?", "step_2"),
        ("第五步之前是哪一步", "step_4"),
        ("第三步之后是什么", "step_4"),
        ("ما الخطوة التي تسبق الخطوة الخامسة", "step_4"),
        ("qué paso sigue después del paso 7", "step_8"),
        # A step named by what is done in it.
        ("which step is before the ERC letter", "step_4"),
        ("what comes before the HC consults the HCT on the choice of lead agencies", "step_3"),
        # Another list, when the question says which.
        ("which core function comes after monitoring and evaluating performance?", "function_5"),
        # Past either end: the whole list.
        ("what comes after step 8", "activation_steps"),
        # "Before the HCT meeting" is step 2's own "before the UNCT/HCT meets".
        ("antes de la reunion del HCT hay que avisar a alguien", "step_2"),
    ],
)
def test_the_line_before_or_after_the_one_a_question_names(
    chat: Chat, question: str, topic: str
) -> None:
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == topic, chat.last


@pytest.mark.parametrize(
    ("first", "then", "title"),
    [
        ("what is step 5", "before?", "step 4 of 8"),
        ("quelle est l'étape 6 ?", "et avant ?", "étape 5 sur 8"),
        ("¿cuál es el paso 4?", "¿y antes?", "paso 3 de 8"),
        ("ما هي الخطوة الرابعة؟", "وقبلها؟", "الخطوة 3 من 8"),
    ],
)
def test_before_alone_is_the_line_before(chat: Chat, first: str, then: str, title: str) -> None:
    chat(first)
    assert title in chat(then).splitlines()[0]


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("", "et avant ?"),
        ("", "上一步呢"),
        ("what is POLR?", "and the one before?"),
        ("ما هو مقدم الملاذ الأخير؟", "واللي قبلها؟"),
    ],
)
def test_a_move_with_no_line_to_move_from_is_not_known(chat: Chat, first: str, then: str) -> None:
    if first:
        chat(first)
    chat(then)
    assert chat.last is not None and chat.last.intent == "unknown", chat.last


@pytest.mark.parametrize(
    ("first", "then", "title"),
    [
        ("what is step 5", "who does it?", "step 5 of 8"),
        ("quelle est l'étape 6 ?", "qui la fait ?", "étape 6 sur 8"),
        ("¿cuál es el paso 6?", "quien lo hace?", "paso 6 de 8"),
        ("第六步是什么", "谁来做", "第 6 步"),
        ("ما هي الخطوة السادسة؟", "مين بيعملها؟", "الخطوة 6 من 8"),
    ],
)
def test_who_does_it_after_a_step_is_that_step(
    chat: Chat, first: str, then: str, title: str
) -> None:
    # The step's own line says who does it: not the core functions, nor the whole procedure.
    chat(first)
    assert title in chat(then).splitlines()[0]


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        # Dialect spellings of the ordinals (ث written ت), and آخر before its noun.
        ("الخطوة التانية", "step_2"),
        ("الخطوة التالتة", "step_3"),
        ("مين بيعمل الخطوة التامنة", "step_8"),
        ("ما هي آخر خطوة في التفعيل", "step_8"),
        # "We stop" (نوقف) is deactivating.
        ("امتى نوقف تفعيل الكلاستر", "deactivation_criteria"),
    ],
)
def test_arabic_dialect_lines_and_deactivating(chat: Chat, question: str, topic: str) -> None:
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == topic, chat.last


@pytest.mark.parametrize(
    ("first", "then", "title"),
    [
        ("quelles sont les fonctions essentielles d'un cluster", "et la cinquième ?", "5 sur 6"),
        ("what are the core functions of a cluster", "and the fifth one?", "Core function 5 of 6"),
        ("what are the core functions of a cluster", "and the seventh?", "There is no core"),
        ("ما هي الوظائف الأساسية للمجموعة؟", "والتالتة؟", "3"),
    ],
)
def test_an_ordinal_alone_asks_that_line_of_the_list_shown(
    chat: Chat, first: str, then: str, title: str
) -> None:
    # Not the step of that number, whose words hold the ordinal ("cinquième étape").
    chat(first)
    answer = chat(then)
    assert title in answer.splitlines()[0], answer
    assert chat.last is not None and "step" not in str(chat.last.data.get("topic")), chat.last


def test_its_points_at_the_topic_shown(chat: Chat) -> None:
    chat("what is provider of last resort?")
    chat("what are its limits?")
    assert chat.last is not None and chat.last.data.get("topic") == "polr_limits", chat.last


@pytest.mark.parametrize(("then", "lead"), [("WASH也一样吗", "UNICEF"), ("卫生也一样吗", "WHO")])
def test_the_same_of_another_cluster_is_its_lead_alone(chat: Chat, then: str, lead: str) -> None:
    # "也一样吗" asks the lead question again of the cluster named, and nothing else.
    chat("谁牵头营养集群")
    answer = chat(then)
    assert lead in answer and "停用" not in answer, answer
