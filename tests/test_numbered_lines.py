"""A question that names one line of a numbered list by its number gets that line.

"Step 6", "the sixth step", "la dernière étape", "第六步", "الخطوة السادسة": the ranker drops
numbers, so knowledge.parts reads them; a line that does not exist is never made up.
"""

import pytest

from tests.conftest import Chat

NAMED = [
    ("step 6 of the activation procedure", "step_6"),
    ("what is step 5 of activation", "step_5"),
    ("who does step 3", "step_3"),
    ("the last step?", "step_8"),
    ("what happens after step 5", "step_6"),
    ("after step 3, what is step 5?", "step_5"),
    ("2nd criterion", "criterion_2"),
    ("core function 4", "function_4"),
    ("what is the first responsibility of a cluster lead", "responsibility_1"),
    ("étape 6 de l'activation", "step_6"),
    ("la dernière étape ?", "step_8"),
    ("cual es el paso 4", "step_4"),
    ("el sexto paso", "step_6"),
    ("第6步", "step_6"),
    ("最后一步是什么", "step_8"),
    ("核心职能的第四项", "function_4"),
    ("ما هي الخطوة السادسة", "step_6"),
    ("الخطوة 6", "step_6"),
    # "The first thing we do" is the procedure's first step.
    ("whats the very first thing we do when we think about activating", "step_1"),
    ("quelle est la première chose à faire pour activer un cluster", "step_1"),
    ("cual es la primera cosa que hay que hacer para activar", "step_1"),
]


@pytest.mark.parametrize(("question", "line"), NAMED)
def test_a_numbered_line_is_answered_by_itself(chat: Chat, question: str, line: str) -> None:
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == line, chat.last


def test_a_follow_up_names_the_next_step(chat: Chat) -> None:
    assert "24 hours" in chat.ask("what is step 5 of activation", "and step 6?")


@pytest.mark.parametrize(
    "question", ["step 0", "第0步", "第三方机构有什么职责", "第一时间应该通知谁"]
)
def test_a_number_that_names_no_line_is_no_line(chat: Chat, question: str) -> None:
    # Zero is no line, and 第三方 (third party), 第一时间 (at once) are no third or first item.
    chat(question)
    assert chat.last is not None
    topic = str(chat.last.data.get("topic") or "")
    assert not topic.startswith(("step_", "responsibility_", "function_")), topic


@pytest.mark.parametrize("question", ["what is step 9", "what are the 8 steps", "eight steps"])
def test_no_line_beyond_the_list_nor_for_a_count(chat: Chat, question: str) -> None:
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") == "activation_steps"


def test_last_resort_is_no_last_line(chat: Chat) -> None:
    chat("最后手段提供者是什么")
    assert chat.last is not None and chat.last.data.get("topic") == "provider_of_last_resort"


@pytest.mark.parametrize(
    "question",
    ["what is provider of last resort", "什么是最后手段提供者", "what is the cluster approach"],
)
def test_a_question_naming_a_whole_topic_gets_all_of_it(chat: Chat, question: str) -> None:
    chat(question)
    assert chat.last is not None and chat.last.data.get("topic") in {
        "provider_of_last_resort",
        "cluster_approach",
    }


@pytest.mark.parametrize("question", ["does the ERC decide alone?", "step 7", "第六步"])
def test_a_line_naming_who_approves_carries_the_note_on_the_edg(chat: Chat, question: str) -> None:
    answer = chat(question)
    assert "EDG" in answer and "2021" in answer


def test_a_line_that_names_no_approver_has_no_such_note(chat: Chat) -> None:
    assert "EDG" not in chat("step 5")


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("what is responsibility 12 of a cluster lead", "\nTraining and capacity building.\n"),
        ("quelle est la responsabilité 12 du chef de file", "\nLa formation et le renforcement"),
        ("牵头机构的第12项职责是什么", "\n培训与能力建设。\n"),
        ("ما هي المسؤولية 12 للوكالة الرائدة", "\nالتدريب وبناء القدرات.\n"),
    ],
)
def test_an_item_of_a_list_that_runs_on_is_said_as_a_sentence(
    chat: Chat, question: str, sentence: str
) -> None:
    # The duties are one sentence in their topic ("12. training and capacity building;"):
    # alone, the item starts with a capital and ends with a full stop, not a semicolon.
    assert sentence in chat(question), question
