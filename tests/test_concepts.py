"""The concepts, the acronyms, and the questions field staff actually ask."""

import pytest

from knowledge import KnowledgeBase
from knowledge.understanding import understand
from tests.conftest import Chat


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what is the cluster approach and when did it start?", ["2005"]),
        ("what are the four aims of the cluster approach", ["Predictable leadership"]),
        (
            "What does provider of last resort actually oblige the cluster lead agency to do, and what if there is no funding?",
            ["funding", "last resort"],
        ),
        ("What are the six core functions of a cluster?", ["6. Support strong advocacy"]),
        ("what are the responsibilities of a country cluster lead", ["13. providing assistance"]),
        (
            "What are the criteria for activating a cluster?",
            ["sharp deterioration", "humanitarian principles"],
        ),
        (
            "Our HCT wants a CCCM cluster. What are the steps and who writes the letter?",
            ["5. The RC/HC writes to the Emergency Relief Coordinator", "Within 24 hours", "EDG"],
        ),
        (
            "Who decides to activate a cluster: the HC, the ERC, the IASC Principals or the EDG? How long does it take?",
            ["24 hours", "Emergency Directors Group"],
        ),
        ("What is the ICCG and who chairs it?", ["OCHA"]),
        ("When and how is a cluster deactivated, and what is a transition plan?", ["90 days"]),
        (
            "How often must the cluster architecture be reviewed after a sudden-onset disaster?",
            ["within 3 months"],
        ),
        (
            "Can our (national) NGO co-lead or co-coordinate a cluster, and are we then accountable as provider of last resort?",
            ["does not", "provider of last resort"],
        ),
        (
            "What is the difference between a cluster and a sector (or working group)?",
            ["formally activated"],
        ),
        ("Is the cluster system used in a refugee crisis? Who coordinates refugees?", ["UNHCR"]),
        (
            "What is CCPM, when do we have to run it, and is it an evaluation of the coordinator?",
            ["not a performance appraisal"],
        ),
        (
            "What is the difference between the HCT and the UNCT? Are NGOs members of the HCT?",
            ["Resident Coordinator"],
        ),
        (
            "What is a System-Wide Scale-Up and does it automatically activate clusters?",
            ["does not by itself activate"],
        ),
        (
            "Does the humanitarian reset mean clusters are being merged or abolished?",
            ["no final decision"],
        ),
        (
            "What is the Flagship Initiative / area-based coordination, and does it replace clusters in pilot countries?",
            ["Colombia"],
        ),
        (
            "Can government co-lead a cluster, and what happens to cluster leadership when the government takes over?",
            ["transition"],
        ),
        (
            "How do I report our activities to the cluster (3W/4W/5W), and what sector code should I use?",
            ["we do not hold"],
        ),
        (
            "Which clusters are in this year's HRP for Sudan, and how do I get funding through the cluster (pooled funds)?",
            ["we do not hold"],
        ),
        (
            "Who is the cluster coordinator for WASH in Yemen, and how do I join the cluster mailing list?",
            ["no country record"],
        ),
        (
            "Has the Education cluster been officially activated in Sudan, or is it a sector?",
            ["no country record for Education in Sudan"],
        ),
        (
            "Who leads CCCM after an earthquake versus in a conflict IDP situation?",
            ["IOM", "UNHCR"],
        ),
        (
            "Which agency leads shelter here: IFRC or UNHCR? Does it depend on whether it's a flood or a conflict?",
            ["natural disasters", "conflict"],
        ),
        ("Who leads the nutrition cluster (globally, and in our country)?", ["UNICEF"]),
        (
            "global cluster leads are accountable to whom?",
            ["accountable to the Emergency Relief Coordinator"],
        ),
    ],
)
def test_field_questions(chat: Chat, question: str, expected: list[str]) -> None:
    answer = chat(question)
    assert chat.last is not None and chat.last.intent not in {"unknown", "unknown_cluster"}
    for phrase in expected:
        assert phrase in answer, f"{phrase!r} not in answer to {question!r}:\n{answer}"
    assert chat.last.sources


# A concept asked in each other language: (the question, a phrase its answer holds).
CONCEPTS_ASKED = {
    "zh": ("什么是最后手段提供者？", "最后"),
    "fr": ("Quels sont les critères d'activation d'un cluster ?", "1."),
    "es": ("¿Cuáles son las seis funciones básicas de un clúster?", "6."),
    "ar": ("ما هي معايير تفعيل المجموعة؟", "1."),
}


@pytest.mark.parametrize("lang", CONCEPTS_ASKED)
def test_concepts_in_other_languages(chat: Chat, lang: str) -> None:
    question, phrase = CONCEPTS_ASKED[lang]
    answer = chat.ask(question, intent="concept")
    assert chat.last.lang == lang
    assert phrase in answer


def test_acronyms(chat: Chat) -> None:
    assert "Emergency Relief Coordinator" in chat("what does ERC stand for")
    answer = chat("/acronyms")
    for acronym in ["HC", "RC", "HCT", "CLA", "IASC", "OCHA", "UNCT", "CCPM", "AoR"]:
        assert f"• {acronym}:" in answer


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("what does the HC do", "The ERC, the HC and the RC"),
        ("who is the ERC now", "The ERC, the HC and the RC"),
        ("who is the current ERC?", "The ERC, the HC and the RC"),
        # In a country the post is still the post: we hold no one's name there either.
        ("who is the HC in Sudan?", "The ERC, the HC and the RC"),
        # Named by its words, the post in a country is the post too.
        ("who is the humanitarian coordinator in Sudan?", "The ERC, the HC and the RC"),
        ("苏丹的人道主义协调员是谁", "紧急救济协调员、人道主义协调员和驻地协调员"),
        ("what does the RC do in Haiti", "The ERC, the HC and the RC"),
        ("qui est le CH au Soudan ?", "le coordonnateur humanitaire et le coordonnateur résident"),
        ("que fait le CH ?", "le coordonnateur humanitaire et le coordonnateur résident"),
        ("qué hace el coordinador humanitario", "el Coordinador Humanitario y el Coordinador"),
        ("ERC是谁", "紧急救济协调员、人道主义协调员和驻地协调员"),
        ("ماذا يفعل منسق الشؤون الإنسانية", "ومنسق الشؤون الإنسانية والمنسق المقيم"),
    ],
)
def test_what_a_post_does_or_who_holds_it_is_the_posts_not_the_acronym(
    chat: Chat, question: str, title: str
) -> None:
    # The ERC, the HC and the RC by role; who holds them now is not ours to say (no name).
    answer = chat(question)
    assert title in answer.splitlines()[0], answer
    assert "OCHA" in answer, answer
    spelled = chat("what does HC stand for")
    assert "Humanitarian Coordinator" in spelled and "The ERC, the HC and the RC" not in spelled


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("what is POLR?", "Provider of last resort"),
        ("什么是POLR", "最后手段提供者"),
        ("que es el CCPM", "Seguimiento del Desempeño de la Coordinación de Clústeres (CCPM)"),
    ],
)
def test_what_an_acronym_is_gets_the_topic_it_is_the_title_of(
    chat: Chat, question: str, title: str
) -> None:
    # "What is POLR?" wants what it is, not three words; "what does it stand for?" the words,
    # with the topic one button away.
    assert chat(question).splitlines()[0] == title
    spelled = chat("what does POLR stand for")
    assert spelled.startswith("• POLR: provider of last resort"), spelled
    assert [c.label for c in chat.last.choices] == ["Provider of last resort"]
    chat("what does HC stand for")  # no topic has the words as its title: no button
    assert not chat.last.choices


@pytest.mark.parametrize(
    ("question", "line"),
    [
        (
            "what does POLR mean in practice if there is no money",
            "it depends on access, security and the availability of funding",
        ),
        ("NGO算不算HCT成员", "某个 HCT 由哪些成员组成"),
        # An acronym leading a question about something else is a word of it.
        # Who asks, before a wish to activate: the procedure, not who the HC is.
        (
            "HC here - we want to propose activating logistics and ETC, what do I have to do?",
            "The eight steps to activate clusters",
        ),
        # An actor of a step, asked in spoken Arabic with "للـ"/"الـ": the step.
        ("قديش بياخد الـ ERC وقت ليبعت الاقتراح لمدراء IASC", "في غضون 24 ساعة"),
        (
            "الرسالة اللي بتروح للـ ERC بخصوص الكتل، مين بيبعتها وإيه اللي فيها؟",
            "يكتب المنسق المقيم",
        ),
    ],
)
def test_an_acronym_in_a_question_that_says_more_is_no_expansion(
    chat: Chat, question: str, line: str
) -> None:
    # What the rest asks of the acronym's topic ("if there is no money"), whether one is a
    # member of it ("算不算", "does it count as": how it is asked), or what it does in a
    # question about something else: not the acronym's words.
    answer = chat(question)
    assert line in answer, answer
    assert chat.last is not None and chat.last.intent != "acronym", answer


def test_an_acronym_in_a_long_message_nothing_answers_is_not_expanded(chat: Chat) -> None:
    # Beside many words the acronym is no question about its words: no expansion, said so.
    long = "morning all, HCT asked me to find out how we activate a cluster here. where do we start and what comes after"
    answer = chat(long)
    assert chat.last is not None and chat.last.intent != "acronym", answer
    # Asked after a wish, the post is still what is asked; alone, the acronym is expanded.
    assert "The ERC, the HC and the RC" in chat(
        "we want to activate the health cluster, who is the HC?"
    )
    assert "Humanitarian Country Team" in chat("HCT?")


def test_an_acronym_typed_alone_is_expanded_in_every_language(chat: Chat) -> None:
    # "HRP = ?" shows no language: each reader finds the expansion in theirs.
    alone = chat("HRP = ?")
    for meaning in [
        "Humanitarian Response Plan",
        "Plan de Respuesta Humanitaria",
        "人道主义应对计划",
    ]:
        assert meaning in alone
    # A question in English is answered in English alone.
    asked = chat("what does HRP stand for")
    assert "Humanitarian Response Plan" in asked and "Plan de Respuesta" not in asked


def test_unknown_question_is_honest_with_suggestions(chat: Chat) -> None:
    answer = chat("what is the price of fuel in Juba")
    assert "I don't know that" in answer
    assert "who leads health" in answer


@pytest.mark.parametrize(
    "question",
    [
        pytest.param("what about the weather in geneva", id="weather-en"),
        pytest.param("whats the best pizza in nairobi", id="pizza-en"),
        pytest.param("quel temps fait-il à Dakar", id="weather-fr"),
        pytest.param("¿cuál es tu color favorito?", id="colour-es"),
        pytest.param("今天天气怎么样", id="weather-zh"),
        pytest.param("ما هو الطقس اليوم", id="weather-ar"),
        # The word after "who" is the verb of what is asked, never a cluster's name.
        pytest.param("who pays for the cluster coordinator?", id="who-pays-en"),
        pytest.param("qui paie le coordinateur du cluster ?", id="who-pays-fr"),
        # A list word inside another list's name, or listing another thing, lists no clusters.
        pytest.param("list the salaries of cluster coordinators", id="list-salaries-en"),
        pytest.param("liste les salaires des coordinateurs de cluster", id="list-salaries-fr"),
        # No passage holds salaries or how a post is funded: the line naming the post is no
        # answer.
        pytest.param("who funds the cluster coordinator", id="pay-funds-en"),
        pytest.param("集群协调员的工资是多少", id="pay-zh"),
        pytest.param("كم راتب منسق المجموعة", id="pay-ar"),
        pytest.param("cuánto gana un coordinador de clúster", id="pay-es"),
        pytest.param("quel est le salaire d'un coordinateur de cluster", id="pay-fr"),
        # A country named is no lead question when the pay is what is asked (a cluster named
        # gets its lead and the line that we hold no terms: tests/test_leads.py).
        pytest.param("who pays the cluster coordinator in Sudan?", id="pay-country-en"),
        # A checklist's control word with no checklist open: "取消" shares a word with the
        # humanitarian reset, "back" with step 7, and neither is asked.
        pytest.param("cancel", id="control-cancel-en"),
        pytest.param("back", id="control-back-en"),
        pytest.param("start over", id="control-start-over-en"),
        pytest.param("取消", id="control-cancel-zh"),
        pytest.param("返回", id="control-back-zh"),
        pytest.param("annuler", id="control-cancel-fr"),
        pytest.param("retour", id="control-back-fr"),
        pytest.param("cancelar", id="control-cancel-es"),
        pytest.param("إلغاء", id="control-cancel-ar"),
        pytest.param("رجوع", id="control-back-ar"),
    ],
)
def test_a_question_off_our_topics_is_not_answered_with_one(chat: Chat, question: str) -> None:
    chat.ask(question, intent="unknown")


@pytest.mark.parametrize(
    "question",
    [
        "ETC: who leads telephone and data services",
        "¿qué clúster provee teléfonos satelitales?",
        "哪个集群负责提供电话和网络服务？",
        "quel cluster fournit les téléphones satellites ?",
    ],
)
def test_telephones_as_a_service_are_no_question_of_reaching_a_post(
    chat: Chat, question: str
) -> None:
    # Emergency Telecommunications provides them: only a post's number is what we do not hold.
    chat(question)
    assert chat.last is not None and chat.last.intent != "unknown", chat.last


@pytest.mark.parametrize(
    ("question", "lang", "topic"),
    [
        # An agency named without a lead word: the question is about the rest.
        ("红十字会也是集群的成员吗", "zh", "membership"),
        ("¿la Cruz Roja es miembro de los clusters?", "es", "membership"),
        # "Réunion" is a meeting, not the French department.
        ("avant la réunion de l'équipe de pays, qui faut-il alerter ?", "fr", "step_2"),
        # An agency or a cluster named in passing in a long preamble is not what is asked.
        (
            "Good morning, I'm new in the OCHA office and my boss wants me to brief the HCT on"
            " how clusters get activated, can you help?",
            "en",
            "activation_steps",
        ),
        (
            "Bonjour à tous, je suis nouvelle au bureau OCHA, comment fonctionne l'activation"
            " d'un cluster svp ?",
            "fr",
            "activation_steps",
        ),
        # A general question gets the whole topic, not one line that shares its words.
        ("quelles sont les fonctions d'un cluster", "fr", "core_functions"),
        ("cuales son las funciones de un cluster", "es", "core_functions"),
        # A wish to activate that asks how it goes is a question, not the checklist.
        ("我们想启动集群，程序是怎样的？", "zh", "activation_steps"),
        # French and Spanish write "cluster" too: it marks no language.
        ("que tipo de organizaciones integran un cluster", "es", "membership"),
        # A preamble and the kind of emergency do not hide the question.
        (
            "sorry if this is basic but whats the procedure for activating a cluster",
            "en",
            "activation_steps",
        ),
        (
            "après le cyclone on voudrait activer le cluster abris, on fait comment",
            "fr",
            "activation_steps",
        ),
        # What a post does: named by an acronym's words, by lead words alone, or a body.
        ("what does the CLA actually do", "en", "lead_responsibilities"),
        ("qué hacen las agencias líderes", "es", "lead_responsibilities"),
        ("who is OCHA", "en", "ocha_role"),
        ("ما دور أوتشا في المجموعات", "ar", "ocha_role"),
        ("OCHA是做什么的", "zh", "ocha_role"),
        ("OCHA的作用是什么", "zh", "ocha_role"),
        ("HC是做什么的", "zh", "coordination_roles"),
        # A line that ties with its own topic is not passed over for another that only ties.
        ("what does a co-lead do", "en", "ngo_can_co_lead"),
        # Who is put in charge of a cluster is chosen at step 4, not written in step 5.
        ("who is put in charge of a cluster?", "en", "step_4"),
        # The word after "who" is the verb of what is asked, not a cluster's name.
        ("who alerts the global cluster leads", "en", "step_2"),
        ("谁通知全球集群牵头机构", "zh", "step_2"),
        ("who normally leads a cluster at country level", "en", "accountability"),
        # A post named by its title is its acronym: its "coordinator" asks for no lead.
        ("how many hours does the emergency relief coordinator have", "en", "step_6"),
        ("cuantas horas tiene el coordinador del socorro de emergencia", "es", "step_6"),
        # ... by its title's words of substance, one slip each.
        ("combien de temps a le coordinateur des secours d'urgence", "fr", "step_6"),
        ("cuánto tiempo tiene el coordinador de socorro de emergencias", "es", "step_6"),
        # A list word lists what it names first, not the cluster named after that.
        ("list the responsibilities of a cluster lead agency", "en", "lead_responsibilities"),
        (
            "lista las responsabilidades de la agencia lider del cluster",
            "es",
            "lead_responsibilities",
        ),
        ("列出集群牵头机构的职责", "zh", "lead_responsibilities"),
        ("اعرض قائمة الوظائف الأساسية للمجموعة", "ar", "core_functions"),
        # A one-word best that is not sure gives way to a close two-word one that is.
        ("is advocacy part of what a cluster does", "en", "function_6"),
        # The cluster word alone, asked about, is what a cluster is: the approach.
        ("what is a cluster", "en", "cluster_approach"),
        ("qu'est-ce qu'un cluster ?", "fr", "cluster_approach"),
        ("qué es un clúster", "es", "cluster_approach"),
        ("什么是集群", "zh", "cluster_approach"),
        ("ما هي المجموعة", "ar", "cluster_approach"),
        ("define cluster", "en", "cluster_approach"),
        ("explain clusters", "en", "cluster_approach"),
        # A sector is a question of its own, not the cluster word.
        ("what is a sector?", "en", "cluster_vs_sector"),
        ("qu'est-ce qu'un secteur ?", "fr", "cluster_vs_sector"),
        ("什么是部门", "zh", "cluster_vs_sector"),
        # Undoing an activation is no activation: "how" and "activate" are in both.
        ("كيف يتم إلغاء تفعيل المجموعة", "ar", "deactivation"),
    ],
)
def test_the_question_behind_the_words_around_it(
    chat: Chat, question: str, lang: str, topic: str
) -> None:
    chat(question)
    assert chat.last is not None and chat.last.lang == lang
    assert chat.last.data.get("topic") == topic, chat.last


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("what happens after the ERC gets the letter?", "step_6"),
        ("después de que el HC manda la carta, ¿qué hace el ERC?", "step_6"),
        ("人道主义协调员发信之后，紧急救济协调员做什么", "step_6"),
        # "Once" / "as soon as" before an actor and a done action is "after".
        ("what happens once the HC has sent the letter?", "step_6"),
        ("as soon as the ERC has confirmed in writing, what's next?", "step_8"),
        ("une fois que le CH a envoyé la lettre, il se passe quoi ?", "step_6"),
        ("一旦HC发了信，接下来呢", "step_6"),
        # The next step answers what the rest asks ("what does the RC/HC do?") as well.
        ("después de que el ERC confirma, ¿qué hace el CR/CH?", "step_8"),
    ],
)
def test_the_step_after_the_one_named(chat: Chat, question: str, topic: str) -> None:
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == topic, chat.last


@pytest.mark.parametrize(
    "question",
    [
        "after the letter goes to the erc how long until the principals get it",
        "después de que la carta llega al ERC cuánto tarda en llegar a los principales",
        "une fois que le CH a envoyé la lettre combien de temps a l'ERC",
    ],
)
def test_a_question_word_ends_the_after_clause(chat: Chat, question: str) -> None:
    # "How long" opens what is asked, no comma before it: the ERC's 24 hours, not step 7.
    answer = chat(question)
    assert "24" in answer, answer
    assert chat.last is not None and chat.last.data.get("topic") == "step_6", answer


@pytest.mark.parametrize(
    ("question", "line"),
    [
        (
            "if the iasc declares a scale-up are clusters switched on automatically",
            "a Scale-Up does not by itself activate any cluster",
        ),
        ("when are clusters switched off", "Deactivation and transition"),
    ],
)
def test_a_synonym_of_two_words_is_that_word(chat: Chat, question: str, line: str) -> None:
    # "Switched on" is activating, "switched off" deactivating (a synonym group's phrase).
    answer = chat(question)
    assert line in answer, answer


@pytest.mark.parametrize(
    ("question", "line"),
    [
        (
            "which clusters are in this years HRP for sudan",
            "Which clusters are in a country's response plan (HRP or HNRP)",
        ),
        (
            "quels clusters sont dans le HRP du soudan cette année",
            "Les clusters inclus dans le plan de réponse d'un pays (HRP ou HNRP)",
        ),
        (
            "qué clústeres están en el HRP de Sudán",
            "Qué clústeres forman parte del plan de respuesta de un país (HRP o HNRP)",
        ),
    ],
)
def test_a_plans_clusters_in_a_country_are_the_plans_topic(
    chat: Chat, question: str, line: str
) -> None:
    # The clusters of a country's HRP are a fact we do not hold: the topic says where they are
    # listed, not our activation records for the country.
    answer = chat(question)
    assert line in answer, answer


@pytest.mark.parametrize(
    ("question", "line"),
    [
        # A line holding the named title's words and its own topic's title's, and surer.
        ("NGO联合牵头的话也要当最后手段提供者吗", "作为共同牵头方的非政府组织并不承担"),
        ("NGO当联合牵头也算最后手段提供者吗", "作为共同牵头方的非政府组织并不承担"),
    ],
)
def test_the_line_that_holds_more_of_the_question_answers(
    chat: Chat, question: str, line: str
) -> None:
    answer = chat(question)
    assert line in answer, answer


def test_once_before_a_state_is_no_step_done(chat: Chat) -> None:
    # "Once a cluster is activated" names no step done: the question is about accountability.
    chat("once a cluster is activated, who are cluster leads accountable to?")
    assert chat.last is not None
    assert not str(chat.last.data.get("topic") or "").startswith("step_"), chat.last


def test_a_step_asked_after_another_is_the_one_asked(chat: Chat) -> None:
    chat("after the HCT consultation, who writes the letter?")
    assert chat.last is not None and chat.last.data.get("topic") != "step_4", chat.last


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("list the 13 lead responsibilities", "lead_responsibilities"),
        ("列出牵头机构的职责", "lead_responsibilities"),
        ("dame la lista de las funciones basicas", "core_functions"),
    ],
)
def test_a_list_of_something_else_is_not_the_list_of_clusters(
    chat: Chat, question: str, topic: str
) -> None:
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == topic, chat.last


@pytest.mark.parametrize(
    "question",
    ["list all clusters", "quels sont les clusters mondiaux et leurs chefs de file", "clusters"],
)
def test_a_list_of_clusters_is_still_the_list(chat: Chat, question: str) -> None:
    chat.ask(question, intent="list_clusters")


def test_a_word_of_our_topics_is_never_an_unknown_cluster_name(chat: Chat) -> None:
    # 责任 (responsibility) is a word of a synonym group: no cluster called "责".
    answer = chat("集群牵头机构有哪些责任")
    assert chat.last is not None and chat.last.data.get("topic") == "lead_responsibilities"
    assert "13" in answer


def test_related_topics_never_name_the_topic_answered(chat: Chat) -> None:
    answer = chat("who approves activation nowadays")
    title = answer.splitlines()[0]
    related = [line for line in answer.splitlines() if line.startswith("Related:")]
    assert title == "Who decides to activate a cluster, and how long it takes"
    assert not related or title not in related[0], answer


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("when do we need to activate a cluster", "The criteria for activating a cluster"),
        ("when should a cluster be activated?", "The criteria for activating a cluster"),
        ("cuando hay que activar un cluster", "Los criterios para activar un clúster"),
        ("quand faut-il activer un cluster", "Les critères d'activation d'un cluster"),
        # The situations a cluster is activated in: the criteria, whatever else the words
        # of the question are near ("situations" is also a word of the eleven clusters).
        ("in which situations should a cluster be activated", "The criteria for activating"),
        ("in what situations do we activate clusters", "The criteria for activating a cluster"),
        ("dans quelles situations active-t-on un cluster ?", "Les critères d'activation"),
        ("en qué situaciones se activa un clúster", "Los criterios para activar un clúster"),
        # "When" that joins two clauses: the other question word says what is asked.
        ("what should we do when we activate a cluster?", "The eight steps to activate clusters"),
        ("when I want to activate a cluster, what should I do?", "The eight steps"),
        ("we want to activate a cluster when the floods hit, how?", "The eight steps"),
        ("¿qué hacer cuando queremos activar un cluster?", "Los ocho pasos para activar"),
        # ... and is then no word of what is asked ("quand" and 的时候 are words of the criteria).
        ("quand on active un cluster, qui décide ?", "Qui décide d'activer un cluster"),
        ("启动集群的时候要做什么？", "启动集群的八个步骤"),
        ("启动集群的时候谁来决定", "由谁决定启动集群"),
        # A clause opened by "que" asks, read where its comma still is.
        ("quand on active un cluster, que faut-il faire ?", "Les huit étapes"),
        # When a step happens is about the procedure, not the criteria.
        ("when does the ERC answer the letter", "The eight steps to activate clusters"),
        # "Why" of activating asks what justifies it, as "when" does ...
        ("why would a cluster be activated at all", "The criteria for activating a cluster"),
        ("pourquoi activer un cluster", "Les critères d'activation d'un cluster"),
        ("por que se activa un cluster", "Los criterios para activar un clúster"),
        ("为什么要启动集群", "启动集群的标准"),
        ("لماذا يتم تفعيل مجموعة", "معايير تفعيل المجموعة"),
        # ... but not of clusters without activating, nor of a step.
        ("why do we even have clusters", "What the cluster approach aims to achieve"),
        ("pourquoi on a des clusters", "Les objectifs de l'approche cluster"),
        ("why does the HC write to the ERC", "Activation procedure, step 5 of 8"),
    ],
)
def test_when_to_activate_is_the_criteria_and_when_beside_a_question_the_question(
    chat: Chat, question: str, title: str
) -> None:
    assert chat(question).splitlines()[0].startswith(title)


@pytest.mark.parametrize(
    "question",
    [
        "what does a cluster's membership contain?",
        "what does a cluster contain?",
        "¿qué contiene un clúster?",
        "que contient un cluster ?",
        "qui faut-il mettre dans le cluster ?",
    ],
)
def test_what_a_cluster_contains_is_not_the_letter_to_the_erc(chat: Chat, question: str) -> None:
    # "Contain" and "put in" ask about the letter only beside the letter.
    answer = chat(question)
    assert chat.last is not None
    assert chat.last.data.get("topic") not in {"step_5", "activation_steps"}, answer


@pytest.mark.parametrize(
    "question",
    [
        "que se necesita para activar un cluster",
        "activer un cluster ?",
        "تفعيل المجموعة",
        "activation?",
    ],
)
def test_activating_and_nothing_more_is_the_procedure(chat: Chat, question: str) -> None:
    # Who decides, the criteria and the letter hold the word too: the procedure is what is asked.
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == "activation_steps", chat.last


@pytest.mark.parametrize(
    "question",
    ["quién activa un clúster", "谁来启动集群", "who activates a cluster", "من يفعل المجموعة"],
)
def test_who_activates_is_who_decides_not_the_procedure(chat: Chat, question: str) -> None:
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == "activation_decision"


def test_arabic_for_written_onto_a_word_is_read_apart(kb: KnowledgeBase) -> None:
    # "لخطة الانتقال" is "for the transition plan": the plan's word, not a word we never saw.
    assert kb.ranker.tokens("لخطة الانتقال", "ar") == kb.ranker.tokens("خطة الانتقال", "ar")
    # "بيقود", "بيقرر" are spoken Arabic's "leads", "decides": the verb, not "with" + a word.
    assert kb.ranker.tokens("بيقود", "ar") == kb.ranker.tokens("يقود", "ar")
    assert kb.ranker.tokens("بيقرر", "ar") == kb.ranker.tokens("يقرر", "ar")


@pytest.mark.parametrize(
    ("question", "meaning"),
    [
        ("que veut dire CSU ?", "ERC: Coordonnateur des secours d'urgence"),
        ("que veut dire EHP ?", "HCT: Équipe humanitaire de pays"),
        ("¿qué significa CSE?", "ERC: Coordinador del Socorro de Emergencia"),
        ("¿qué significa CH?", "HC: Coordinador Humanitario"),
    ],
)
def test_the_acronyms_the_bot_writes_in_a_language_are_understood(
    chat: Chat, question: str, meaning: str
) -> None:
    # The French text says "CSU", the Spanish "CSE", for the ERC: asked about, they are ours.
    assert meaning in chat(question)


@pytest.mark.parametrize("question", ["combien d'heures a le CSU ?", "combien d'heures a l'ERC ?"])
def test_the_erc_by_its_french_acronym_is_the_erc(chat: Chat, question: str) -> None:
    assert "24 heures" in chat(question).split("\n\n", 1)[0]


@pytest.mark.parametrize(
    "wish",
    [
        "我想在缅甸启动卫生集群",
        "我们需要在缅甸启动卫生集群",
        "我们要在也门启动营养集群",
        "نحتاج إلى تفعيل مجموعة الصحة في ميانمار",
        "we need to activate the health cluster in Myanmar",
    ],
)
def test_a_wish_to_activate_naming_a_country_and_a_cluster_starts_the_checklist(
    kb: KnowledgeBase, wish: str
) -> None:
    # Chinese puts the place between the wish and the verb ("我想在缅甸启动"); Arabic says
    # "we need to activate" (نحتاج إلى تفعيل) as often as "we want to": neither is a lead question.
    assert understand(wish, kb).intent == "start_checklist", wish


@pytest.mark.parametrize(
    ("question", "topics"),
    [
        ("how long is a scale-up?", {"scale_up", "scale_up.1"}),
        ("scale up 多长时间", {"scale_up", "scale_up.1"}),
        ("cuanto dura un scale up", {"scale_up", "scale_up.1"}),
        ("when must the transition plan be ready?", {"transition_timing"}),
        ("متى يجب أن تكون خطة الانتقال جاهزة", {"transition_timing"}),
        ("le plan de transition doit etre pret quand", {"transition_timing"}),
        # The ERC's 24 hours are still what "how long" asks of the forwarding.
        ("how long does the ERC have to forward the proposal", {"step_6", "activation_decision"}),
        # Activating as a whole: its time is the decision's (24 hours), not its criteria's.
        ("combien de temps pour l'activation", {"activation_decision"}),
        ("启动要多久", {"activation_decision"}),
    ],
)
def test_a_how_long_or_by_when_word_asks_it_of_the_subject_named(
    kb: KnowledgeBase, question: str, topics: set[str]
) -> None:
    # "How long" is a keyword of who decides (24 hours), "must be ready" of the lead's duty:
    # beside a subject of their own they ask its duration or deadline.
    assert understand(question, kb).topic in topics, question


@pytest.mark.parametrize(
    ("question", "titles"),
    [
        (
            "what are the activation criteria and who decides?",
            ["The criteria for activating a cluster", "Who decides to activate a cluster"],
        ),
        (
            "c'est quoi le dernier recours ? et comment on desactive un cluster ?",
            ["Prestataire de dernier recours", "Désactivation et transition"],
        ),
        ("启动标准是什么，谁来决定", ["启动集群的标准", "由谁决定启动集群"]),
        ("ما هي معايير التفعيل ومن يقرر", ["معايير تفعيل المجموعة", "من يقرر تفعيل المجموعة"]),
        # The second named by its title's word, asked by the first's question word.
        (
            "what are the criteria and steps",
            ["The criteria for activating a cluster", "The eight steps to activate clusters"],
        ),
        (
            "cuales son los criterios y los pasos",
            ["Los criterios para activar un clúster", "Los ocho pasos para activar clústeres"],
        ),
    ],
)
def test_two_questions_in_one_message_get_both_answers(
    chat: Chat, question: str, titles: list[str]
) -> None:
    chat(question)
    shown = [chat.bot.render_plain([r]).splitlines()[0] for r in chat.replies]
    assert len(shown) == 2, shown
    for got, want in zip(shown, titles, strict=True):
        assert got.startswith(want), shown


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("who decides to deactivate a cluster, the ERC or the HC?", "reports it to the ERC"),
        ("quien decide desactivar un cluster, el ERC o el HC?", "la comunica al ERC"),
        (
            "can we close the cluster once the government can coordinate on its own?",
            "no longer hold",
        ),
        ("مين بيقرر يوقف الكلستر، ERC ولا HC؟", "العراق"),
    ],
)
def test_deactivating_is_not_asked_as_activating(chat: Chat, question: str, phrase: str) -> None:
    answer = chat(question)
    assert phrase in answer, answer


@pytest.mark.parametrize(
    "question",
    [
        # A "when" clause asks nothing of its own; more of one question is no second one.
        "cuando se activa un clúster, qué se hace primero",
        "quienes participan en un cluster, solo agencias de la ONU?",
        "本地NGO当共同牵头，要当最后手段提供者吗",
        # Who asks is no question ("je suis nouvelle au bureau OCHA").
        "Bonjour à tous, je suis nouvelle au bureau OCHA, comment fonctionne l'activation ?",
    ],
)
def test_one_question_in_two_clauses_gets_one_answer(chat: Chat, question: str) -> None:
    chat(question)
    assert len(chat.replies) == 1, [r.template for r in chat.replies]


@pytest.mark.parametrize(
    "greeting", ["Bonjour à tous", "buenos dias a todos", "hi all", "مرحبا بالجميع"]
)
def test_a_greeting_to_everyone_is_a_greeting(chat: Chat, greeting: str) -> None:
    # "à tous" is no word of a topic ("tous les ... ans"): the greeting gets the help.
    chat(greeting)
    assert chat.last is not None and chat.last.template == "help/help.j2", chat.last.template


@pytest.mark.parametrize("message", ["test", "just testing", "essai", "prueba", "测试一下", "تست"])
def test_a_message_that_tests_the_bot_gets_the_help(chat: Chat, message: str) -> None:
    # "Test" is a word of the Flagship Initiative, which "tests" area-based coordination.
    chat(message)
    assert chat.last is not None and chat.last.template == "help/help.j2", chat.last.template


@pytest.mark.parametrize(
    ("greeting", "example"),
    [
        ("how are you", "who leads WASH?"),
        ("comment ça va ?", "qui dirige"),
        ("hola, cómo estás", "quién lidera"),
        ("你好吗", "谁牵头"),
        ("كيف حالك يا بوت", "من يقود"),
    ],
)
def test_how_are_you_is_a_greeting(chat: Chat, greeting: str, example: str) -> None:
    # Asking after the bot is small talk, not a topic that shares "how" or "you" (the help,
    # with its examples, not the coordination roles).
    assert example in chat(greeting)


@pytest.mark.parametrize(
    "question",
    [
        "when did iraq close its clusters",
        "en Irak cuando cerraron los clusters",
        "伊拉克的集群什么时候全关的",
        "العراق قفل الكلسترات امتى",
    ],
)
def test_a_country_named_in_a_passage_gets_the_passage(chat: Chat, question: str) -> None:
    answer = chat(question)
    assert "2022" in answer, answer
    chat.ask("which clusters are active in Iraq", intent="country_clusters")


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("can an ngo co-lead a cluster? are we then provider of last resort?", "ngo_co_lead"),
        # Two clauses, one a line of the topic the message ranks a line of first: the topic.
        ("can our national NGO co-lead and are we then provider of last resort", "ngo_co_lead"),
        (
            "une ONG nationale peut co-diriger, et est-on alors prestataire de dernier recours ?",
            "ngo_co_lead",
        ),
        ("我们本地NGO做了共同牵头 是不是也要当最后提供者", "ngo_polr"),
        ("somos ONG colider, respondemos ante el HC igual que la agencia lider?", "ngo_polr"),
    ],
)
def test_an_ngo_co_lead_asks_about_ngo_co_leads(chat: Chat, question: str, topic: str) -> None:
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == topic, chat.last


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("activaton critera", "activation_criteria"),
        ("criterios de activacon", "activation_criteria"),
        ("deactivaton proces", "deactivation_vs_transition"),
    ],
)
def test_a_slip_on_a_concept_word_is_read_as_the_word(
    chat: Chat, question: str, topic: str
) -> None:
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == topic, chat.last


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("refugiados: se usan clusters o lo coordina ACNUR?", "refugee_coordination"),
        ("OCHA在集群里到底干嘛的", "ocha_role"),
    ],
)
def test_an_agency_beside_a_topic_it_is_named_in_asks_the_topic(
    chat: Chat, question: str, topic: str
) -> None:
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic", "").startswith(topic), chat.last
    chat.ask("is OCHA the lead of any cluster", intent="agency_clusters")


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("الـ Scale-Up كم شهر بيطول", "scale_up"),
        ("في الازمات الطويلة كل قديش بيراجعوا هيكل المجموعات", "architecture_review"),
        ("ازاي بيقفلوا الكلستر لما الحكومة تقدر تنسق لوحدها", "deactivation_criteria"),
    ],
)
def test_spoken_arabic_is_read(chat: Chat, question: str, topic: str) -> None:
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic", "").startswith(topic), chat.last


@pytest.mark.parametrize(
    "question", ["cual es el procedimiento", "cuales son los pasos", "quelle est la procédure"]
)
def test_the_procedure_asked_alone_is_activating(kb: KnowledgeBase, question: str) -> None:
    # Process words are activation's; only a word for closing makes them deactivation's.
    assert understand(question, kb).topic == "activation_steps", question


def test_a_word_of_our_topics_is_no_slip_for_a_name_in_another_language(chat: Chat) -> None:
    # "refugies" is French for refugees, one letter from Spanish "refugios" (shelters).
    chat("qui coordonne les refugies")
    assert chat.last is not None and chat.last.data.get("topic") == "refugee_coordination"
    assert chat.last.intent == "concept", chat.last.intent


@pytest.mark.parametrize(
    "question",
    [
        "how does the cluster approach work?",
        "comment fonctionne l'approche cluster ?",
        "¿cómo funciona el enfoque de clúster?",
    ],
)
def test_how_a_topic_named_by_its_title_works_is_that_topic(
    kb: KnowledgeBase, question: str
) -> None:
    # "How" is a word of how to deactivate too; the title the question names says more.
    assert understand(question, kb).topic == "cluster_approach", question


@pytest.mark.parametrize(
    "question",
    [
        "what is the cluster approach and how does it work?",
        "who decides and how?",
        "what is the humanitarian reset, and what does it change?",
    ],
)
def test_a_second_clause_that_says_only_how_adds_no_topic(
    kb: KnowledgeBase, question: str
) -> None:
    # "it", "how" alone: the second clause asks about the first's topic, or ties on chance.
    assert understand(question, kb).also_topic is None, question


@pytest.mark.parametrize(
    ("question", "pointer"),
    [
        ("how do I get on the cluster mailing list", "ask the cluster coordinator there"),
        ("comment devenir membre du cluster", "adressez-vous au coordonnateur du cluster"),
        ("como unirse a un cluster", "pregunte al coordinador del clúster"),
        ("怎么加入集群", "请询问当地的集群协调员"),
        ("كيف ننضم للمجموعة", "اسأل منسق المجموعة هناك"),
    ],
)
def test_how_to_join_says_we_hold_no_mailing_list_and_whom_to_ask(
    chat: Chat, question: str, pointer: str
) -> None:
    # Field question 19: how to join is a country detail; the bot says so and where to ask.
    assert pointer in chat(question)


@pytest.mark.parametrize(
    ("question", "lead", "pointer"),
    [
        ("how do I join the WASH cluster", "UNICEF", "ask the cluster coordinator there"),
        ("comment rejoindre le cluster wash", "UNICEF", "adressez-vous au coordonnateur"),
        # The verb as people conjugate it: "je rejoins", "me uno" (two stop words alone).
        ("comment je rejoins le cluster wash", "UNICEF", "adressez-vous au coordonnateur"),
        ("como me uno al cluster de salud", "OMS", "pregunte al coordinador del clúster"),
        ("怎么加入WASH集群", "UNICEF", "请询问当地的集群协调员"),
        ("كيف أنضم إلى مجموعة الصحة", "WHO", "اسأل منسق المجموعة هناك"),
    ],
)
def test_joining_a_named_cluster_gets_its_lead_and_whom_to_ask(
    chat: Chat, question: str, lead: str, pointer: str
) -> None:
    # One word of joining beside a cluster asks it of that cluster: the lead agency is whose
    # office to ask, and the pointer follows.
    answer = chat(question)
    assert lead in answer and pointer in answer, answer
    assert answer.index(lead) < answer.index(pointer), answer


def test_a_candidate_holding_only_the_question_word_is_passed_over(kb: KnowledgeBase) -> None:
    # "comment" is a word of "comment désactiver"; "rejoindre" is what is asked.
    assert kb.ranker.rank("comment rejoindre", ["fr"])[0].topic in ("joining", "joining.1")


def test_english_stop_words_among_chinese_say_nothing(kb: KnowledgeBase) -> None:
    # "of" in "provider of last resort" had weighed as an unknown word and left it unsure.
    u = understand("没有准入的地方 provider of last resort 还要负责吗", kb)
    assert u.topic in ("polr_limits", "provider_of_last_resort"), u


@pytest.mark.parametrize(
    ("question", "topics"),
    [
        (
            "sorry to bother you, we are preparing a training for new staff, what exactly is"
            " the provider of last resort?",
            {"provider_of_last_resort", "polr_who"},
        ),
        (
            "salut, on prépare une formation pour les nouveaux collègues : c'est quoi exactement"
            " le prestataire de dernier recours ?",
            {"provider_of_last_resort", "polr_who"},
        ),
        (
            "buenas, estoy armando una presentacion para el equipo, cuales son las funciones"
            " basicas de un cluster?",
            {"core_functions"},
        ),
        ("我们下周要给新同事培训，先问一下：核心职能有哪些", {"core_functions"}),
        (
            "مرحبا، عم نحضر ورشة للشركاء: شو هي الوظائف الأساسية للمجموعة؟",
            {"core_functions"},
        ),
    ],
)
def test_a_question_after_a_preamble_is_answered(
    kb: KnowledgeBase, question: str, topics: set[str]
) -> None:
    # Who asks and why had drowned the question in words no topic holds.
    assert understand(question, kb).topic in topics, question


@pytest.mark.parametrize(
    "question",
    [
        "who coordinates in a refugee situation?",
        "qui coordonne dans une situation de réfugiés ?",
        "难民情况下谁来协调",
    ],
)
def test_a_refugee_situation_asks_about_refugee_responses(
    kb: KnowledgeBase, question: str
) -> None:
    # "Situation" is how people put it; unseen, it had left the refugee topic unsure.
    assert understand(question, kb).topic == "refugee_coordination", question


@pytest.mark.parametrize(
    "question",
    [
        "what is your email?",
        "I want to register a complaint",
        "can you subscribe me to alerts?",
        "the next cluster meeting",
    ],
)
def test_joining_is_not_what_an_email_or_a_registration_asks(
    kb: KnowledgeBase, question: str
) -> None:
    # Only joining a cluster or its list asks how to join; the bot's /subscribe is another thing.
    assert understand(question, kb).topic not in ("joining", "joining.1"), question


@pytest.mark.parametrize(
    ("question", "line"),
    [
        (
            "does the lead have to run the coordination meetings",
            "suitable coordination mechanisms",
        ),
        ("is the CLA in charge of working with the government", "national and local authorities"),
        (
            "el lider del cluster organiza las reuniones de coordinacion?",
            "mecanismos de coordinación adecuados",
        ),
        ("le chef de file doit impliquer les communautes", "participatives et communautaires"),
        ("牵头机构要和政府协调吗", "与国家和地方当局"),
        ("هل الوكالة الرائدة لازم تطبق المعايير", "تطبيق المعايير"),
    ],
)
def test_a_duty_in_everyday_words_gets_its_responsibility_line(
    chat: Chat, question: str, line: str
) -> None:
    # People name a lead's duty by what they do ("meetings", "work with the government",
    # "involve communities"), words the line's own text lacks: each line's passage_words.
    assert line in chat(question), question


@pytest.mark.parametrize(
    ("question", "line"),
    [
        ("la chef de file doit elle s occuper de la formation", "renforcement des capacités"),
        (
            "le chef de file doit renforcer les capacites des partenaires locaux",
            "Responsabilité 12 sur 13",
        ),
        ("هل لازم الوكالة الرائدة تهتم بالتدريب", "التدريب وبناء القدرات"),
        ("هل الوكالة الرائدة مسؤولة عن التأهب للطوارئ", "المسؤولية 7 من 13"),
        # Capacity building is a caution of activation and being "part of" asks membership too.
        (
            "does the lead agency do capacity building for local partners",
            "Responsibility 12 of 13",
        ),
        ("is fundraising part of what the lead agency does", "Responsibility 11 of 13"),
    ],
)
def test_the_lead_named_beside_a_shared_duty_gets_its_own_line(
    chat: Chat, question: str, line: str
) -> None:
    # Advocacy, preparedness, training and funding are core functions, cautions or membership
    # too: the lead agency named beside them is what says the lead's line is asked.
    assert line in chat(question), question


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "our hct is thinking of activating the nutrition cluster, what happens next",
            "The eight steps to activate clusters",
        ),
        (
            "CH ici, nous voulons proposer l activation du cluster abris, quelles sont les etapes",
            "Liste de vérification d'activation",
        ),
    ],
)
def test_a_wish_to_propose_activating_is_a_wish_to_activate(
    chat: Chat, question: str, expected: str
) -> None:
    # "Thinking of activating", "proposer l'activation": the HC's wish, said the way an HC
    # says it, is not a question on who proposes nor on the cluster's lead.
    assert expected in chat(question), question


def test_who_asks_is_no_part_of_what_is_asked(chat: Chat) -> None:
    # "I'm the new IMO and nobody told me": a preamble before the question.
    question = "im the new IMO and nobody told me how clusters get activated"
    assert "eight steps" in chat(question), question


@pytest.mark.parametrize(
    "question",
    [
        "el gobierno nacional puede co-liderar el cluster junto con la agencia lider?",
        "el ministerio puede liderar el cluster junto con la agencia?",
        "le gouvernement peut-il coprésider un cluster ?",
        "les autorités nationales peuvent-elles codiriger un cluster ?",
        "هل تقدر الحكومة تقود مجموعة",
        "هل يمكن أن تقود الحكومة مجموعة؟",
        "ما دور الحكومة في نظام المجموعات",
        "how do clusters work closely with the government?",
        # Not an agency we do not hold.
        "can the host government lead a cluster",
    ],
)
def test_the_government_leading_or_its_part_is_the_governments_topic(
    chat: Chat, question: str
) -> None:
    # The government as who leads or co-leads, or whose part is asked: not NGOs co-leading,
    # who makes up a cluster, the approach as a whole, or a cluster of an unknown name.
    chat.ask(question, intent="concept")
    assert str(chat.last.data.get("topic")).startswith("government_role"), chat.last


def test_the_government_taking_over_stays_a_question_on_deactivation(chat: Chat) -> None:
    # The government coordinating is what closing a cluster waits for: that topic answers.
    chat("ازاي بيقفلوا الكلستر لما الحكومة تقدر تنسق لوحدها")
    assert chat.last is not None and chat.last.data.get("topic") != "government_role", chat.last
    assert str(chat.last.data.get("topic")).startswith("deactivation"), chat.last


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("can an international NGO like World Vision co-lead a cluster?", "ngo_can_co_lead"),
        ("is an NGO co-lead such as Mercy Corps also provider of last resort", "ngo_polr"),
    ],
)
def test_a_name_given_as_an_example_says_nothing_of_the_question(
    chat: Chat, question: str, topic: str
) -> None:
    # "Like World Vision" names one NGO to make the question concrete: what any NGO may do is
    # asked, and the name's words weigh nothing in what is ranked.
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == topic, question


@pytest.mark.parametrize(
    "question",
    [
        "I need to brief the RC tomorrow on the formal procedure for cluster activation, can you"
        " summarise it",
        "necesito explicarle al CR mañana como es el tramite para activar un cluster",
        "人道协调员问我启动集群的正式程序，能总结一下吗",
        "الوضع يسوء والمنسق الإنساني يسأل عن إجراءات تفعيل المجموعات، ممكن تشرح لي الخطوات؟",
    ],
)
def test_the_procedure_named_in_a_long_message_is_the_procedure(chat: Chat, question: str) -> None:
    # Who asks, whom they brief and what happened drown the question's words; its noun for the
    # procedure beside activating still says what is wanted: the eight steps, not "I don't know".
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == "activation_steps", question


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("who do cluster leads report to", "levels"),
        ("who does the health cluster lead report to", "levels"),
        ("à qui rendent compte les chefs de file des clusters ?", "levels"),
        ("集群牵头机构向谁汇报", "levels"),
        ("الجهة الرائدة للمجموعة مسؤولة أمام مين؟", "levels"),
        ("who are global cluster leads accountable to", "accountability_global"),
        ("who are country cluster leads accountable to", "accountability"),
        ("is an NGO co-lead accountable to the HC", "ngo_polr"),
        # The HC named before the words for answering to someone is who is asked of.
        ("and the HC, who does he report to?", "hc_accountability"),
        ("y el HC, ¿ante quién rinde cuentas?", "hc_accountability"),
        ("are cluster leads accountable to the HC?", "levels"),
        ("the HC asked me who cluster leads report to", "levels"),
    ],
)
def test_to_whom_a_lead_answers_is_told_at_the_level_asked(
    chat: Chat, question: str, topic: str
) -> None:
    # "Report to" asks accountability, not who leads nor of a cluster called "report"; with no
    # level named both are told (global leads to the ERC, country leads to the HC).
    text = chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == topic, (question, text)
    if topic == "levels":
        assert "ERC" in text and ("HC" in text or "CH" in text), text


@pytest.mark.parametrize(
    "question",
    [
        # A post that asked the asker is who wants to know, not what is asked.
        "the HC asked me what the procedure is",
        "el HC me pidió averiguar cómo se activa un clúster, por dónde empiezo",
        # A noun for the procedure beside activating, whatever body the message names.
        "what is the formal route to get the IASC to activate clusters",
        # A span from one stage of activating to another is the whole procedure.
        "We are a new HCT member and want to understand the sequence from proposal to endorsement",
        "从提议到批准要经过什么",
        "من البداية للنهاية، كيف يتم تفعيل المجموعات؟",
    ],
)
def test_the_whole_procedure_asked_around_other_words_is_the_procedure(
    chat: Chat, question: str
) -> None:
    # A post, a body or "from start to finish" took the question to another topic; the message
    # asks for the eight steps, once, with no second answer on the words of its span.
    chat(question)
    assert [r.data.get("topic") for r in chat.replies] == ["activation_steps"], question


@pytest.mark.parametrize(
    "question",
    [
        "nos unimos al cluster de proteccion, como se hace",
        "on veut rejoindre le cluster abris, comment on fait ?",
        "بدنا ننضم لمجموعة الصحة، كيف نعمل؟",
    ],
)
def test_joining_then_how_it_is_done_is_joining_not_activating(chat: Chat, question: str) -> None:
    # "How is it done" asks how to do what the message names: joining, whose lead to ask.
    chat(question)
    topics = [r.data.get("topic") for r in chat.replies]
    assert "joining" in topics and "activation_steps" not in topics, question


@pytest.mark.parametrize(
    ("question", "step"),
    [
        ("what happens once the ERC gets it", "step_6"),
        ("que se passe-t-il après que l'ERC a reçu la lettre", "step_6"),
        ("qué hace el ERC cuando recibe la carta del HC", "step_6"),
        ("ماذا يفعل ERC عندما يستلم الرسالة", "step_6"),
        ("once the principals have signed off, who tells the partners", "step_8"),
    ],
)
def test_a_step_asked_by_what_follows_its_receipt(chat: Chat, question: str, step: str) -> None:
    # Who receives names the step done to them (the RC/HC writes to the ERC): the next step
    # answers, not the receiver's own line the words share; what the rest asks of whom wins.
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == step, question


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        # "Still ... or now ..." of who approves: the note on who approves today.
        ("la activación la decide todavía el ERC o ahora el EDG", "approver_update"),
        (
            "c'est toujours l'ERC qui décide de l'activation ou maintenant l'EDG ?",
            "approver_update",
        ),
        # Who comes to lead a cluster once activated, none named: who proposes and endorses.
        ("who is put in charge of a cluster when it's set up", "activation_decision"),
        ("qui est désigné chef de file quand un cluster est activé", "activation_decision"),
        # What a post is responsible for is the post's topic.
        ("ERC负责什么", "coordination_roles"),
    ],
)
def test_who_decides_and_who_leads_at_activation(chat: Chat, question: str, topic: str) -> None:
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == topic, question


@pytest.mark.parametrize(
    ("question", "words"),
    [
        # "IASC" in brackets in the EDG's Chinese name is the IASC, not the EDG's own acronym.
        ("what is the IASC", "Inter-Agency Standing Committee"),
        ("IASC是什么", "机构间常设委员会"),
        # The whole name, in any language, is the acronym as if typed.
        ("what is the Inter-Agency Standing Committee", "IASC"),
        ("¿qué es el Comité Permanente entre Organismos?", "IASC"),
        ("机构间常设委员会是什么", "IASC"),
        ("ما هي اللجنة الدائمة المشتركة بين الوكالات", "IASC"),
    ],
)
def test_the_iasc_by_acronym_or_name_is_the_iasc(chat: Chat, question: str, words: str) -> None:
    answer = chat(question)
    assert chat.last is not None and chat.last.intent == "acronym", chat.last
    assert words in answer and "EDG" not in answer, answer


@pytest.mark.parametrize("question", ["CCPM是什么意思", "what does CCPM mean?", "شو معنى CCPM؟"])
def test_an_acronym_with_a_topic_asked_what_it_means_gets_the_topic(
    chat: Chat, question: str
) -> None:
    # Its topic spells it out and says what it is: not the expansion alone.
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == "ccpm", chat.last


@pytest.mark.parametrize(
    "question",
    [
        "under what conditions can the HC recommend activating a cluster",
        "la situation s'est brusquement dégradée, ça suffit pour activer un cluster ?",
        "estamos en Honduras tras el huracán y el gobierno no da abasto, ¿cuáles son los"
        " criterios para activar los clusters?",
        "احنا في لبنان والحكومة مش قادرة تغطي الاحتياجات بعد الحرب، ايش شروط تفعيل الكلاسترات؟",
        "情况突然恶化了，这样够启动集群吗？",
    ],
)
def test_conditions_or_enough_of_activating_ask_the_criteria(chat: Chat, question: str) -> None:
    # "Under what conditions", "is that enough", "what are the criteria" after a situation
    # told: the criteria of activating, both of them, not the one the situation fits, not the
    # step where they are weighed and never the criteria for closing a cluster.
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == "activation_criteria", question


def test_criteria_of_activating_a_cluster_in_a_country_are_not_its_lead(chat: Chat) -> None:
    chat(
        "Bonjour à tous, dans le cadre de la réponse en RDC on se demande si le cluster"
        " protection doit être activé, quels sont les critères ?"
    )
    assert chat.last is not None and chat.last.data.get("topic") == "activation_criteria"


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        (
            "Sorry for the basic question but I have a meeting with the HCT tomorrow what exactly"
            " is the provider of last resort and does it mean the lead agency has to pay for"
            " everything?",
            "polr_limits",
        ),
        (
            "j'ai une réunion avec le HCT demain : c'est quoi le fournisseur de dernier recours ?",
            None,
        ),
    ],
)
def test_an_acronym_in_the_preamble_is_not_what_is_asked(
    chat: Chat, question: str, topic: str | None
) -> None:
    # The acronym says whom the asker meets; the question after it is what is asked.
    chat(question)
    assert chat.last is not None and chat.last.intent != "acronym", question
    got = str(chat.last.data.get("topic"))
    assert got == topic if topic else got.startswith(("provider_of_last_resort", "polr")), got


@pytest.mark.parametrize(
    "question",
    [
        "what are the 6 core functions again? need them for a training slide tomorrow",
        "集群的核心职能有哪几个，我要写进培训PPT里",
        "j'anime un atelier demain, tu peux me résumer les grandes fonctions d'un cluster ?",
        "para un taller con socios locales, ¿me resumes qué hace un clúster, sus funciones"
        " centrales?",
        "عايز أعرف الوظايف الأساسية للكلستر، عندي ورشة بكرة",
    ],
)
def test_the_task_a_question_is_for_says_nothing_of_it(chat: Chat, question: str) -> None:
    # A slide, a workshop tomorrow: what the answer is for, not what is asked.
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == "core_functions", question
