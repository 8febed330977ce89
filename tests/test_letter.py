"""The draft letter follows the answers; replies say only what happened, in the user's language."""

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest

from bot.adapters import terminal
from bot.adapters.slack.mrkdwn import to_mrkdwn
from bot.adapters.whatsapp.text import to_whatsapp
from bot.app import Bot
from bot.db import session_scope
from bot.domain import roles
from knowledge import KnowledgeBase
from tests.conftest import Chat

# Health met; Shelter met with IFRC (the convener); CCCM not met; WASH unclear.
# Steps: 1 and 2 done, 3 not yet ("HCT meets tomorrow"), 4 not yet, 5-8 n/a.
WALK = [
    "/checklist",
    "Sudan",
    "wind and floods destroyed 30,000 homes",
    "health, shelter, cccm, wash",
    "yes, wind and floods destroyed 30,000 homes",
    "yes, 20 clinics closed",  # health gaps
    "yes - the ministry is overwhelmed",  # health capacity
    "yes",  # shelter gaps
    "yes",  # shelter capacity
    "no, camps are well run",  # cccm gaps
    "yes",  # cccm capacity
    "yes",  # wash gaps
    "unsure",  # wash capacity
    "done",
    "done",
    "not yet, HCT meets tomorrow",
    "not yet",
    "n/a",
    "n/a",
    "n/a",
    "n/a",
    "yes",  # health: WHO
    "none",
    "yes",  # shelter: IFRC
    "NRC",
    "yes",  # cccm: IOM
    "none",
    "yes",  # wash: UNICEF
]


def letter_of(chat: Chat, lines: list[str]) -> str:
    for line in lines:
        chat(line)
    assert [r.intent for r in chat.replies] == ["checklist_done", "draft_letter"]
    return chat.bot.renderer.plain(chat.replies[1])


def section(letter: str, title: str) -> str:
    """The text under a `## title` heading, up to the next one."""
    part = letter.split(f"## {title}\n", 1)[1]
    return part.split("\n## ", 1)[0].strip("\n")


def test_the_letter_proposes_only_the_clusters_judged_met(chat: Chat) -> None:
    letter = letter_of(chat, [*WALK, "none"])
    proposed = section(letter, "Proposed clusters and lead agencies")
    assert "### Health" in proposed and "### Shelter" in proposed
    assert "CCCM" not in proposed and "WASH" not in proposed
    assert "Proposed lead: World Health Organization (WHO)." in proposed
    assert "Proposed co-lead: Norwegian Refugee Council (NRC)." in proposed
    others = section(letter, "Clusters considered and not proposed")
    assert (
        "**Camp Coordination and Camp Management (CCCM)**: not proposed, because the activation"
        " criteria are not met. No gaps in the response and in coordination were found for this"
        " cluster. Camps are well run." in others
    )
    assert "**Water, Sanitation and Hygiene (WASH)**: not proposed for now" in others
    assert "Criterion 2: national capacity for Water, Sanitation and Hygiene" in others


def test_notes_become_whole_sentences(chat: Chat) -> None:
    letter = letter_of(chat, [*WALK, "none"])
    situation = section(letter, "The situation")
    assert situation.startswith("Wind and floods destroyed 30,000 homes.\n")
    assert "changed significantly. Wind and floods destroyed 30,000 homes." in situation
    proposed = section(letter, "Proposed clusters and lead agencies")
    assert "for Health. 20 clinics closed. National response" in proposed
    assert "humanitarian principles. The ministry is overwhelmed." in proposed
    # Every paragraph of prose ends with a full stop (or is a visible placeholder or heading).
    for line in letter.split("Yours sincerely,")[0].splitlines():
        if line and not line.startswith(("#", "[", "- ", "From:", "To:", "Date:", "Subject:")):
            assert line.endswith((".", ",", ":", "]")), line


def test_no_undone_step_is_claimed(chat: Chat) -> None:
    letter = letter_of(chat, [*WALK, "none"])
    assert "After consulting" not in letter
    assert "I propose the activation of the clusters below, under the IASC procedure." in letter
    consulted = section(letter, "Consultations so far")
    assert "we have mapped the coordination mechanisms" in consulted  # step 1 done
    # Step 2 done, step 3 not: the HCT has not met, and no sentence says it did.
    assert "lead agencies have been alerted, so that they can take part when the" in consulted
    assert "Team met" not in consulted
    assert (
        "[Not done yet: consult the Humanitarian Country Team on which clusters to recommend"
        in consulted
    )
    assert "Checklist note: HCT meets tomorrow." in consulted
    assert "[Not done yet: consult the Humanitarian Country Team on which agencies" in consulted
    assert "was consulted" not in consulted


def test_a_consulted_hct_is_said(chat: Chat) -> None:
    lines = [*WALK, "none"]
    lines[15] = "done, met on 3 May"
    lines[16] = "done"
    letter = letter_of(chat, lines)
    assert letter.count("After consulting the Humanitarian Country Team, I propose") == 1
    consulted = section(letter, "Consultations so far")
    assert (
        "consulted on which clusters to recommend, against the two activation criteria. Met on 3 May."
        in consulted
    )
    assert "Not done yet" not in consulted


def test_shelter_says_which_lead_applies_and_that_ifrc_convenes(chat: Chat) -> None:
    letter = letter_of(chat, [*WALK, "none"])
    shelter = section(letter, "Proposed clusters and lead agencies").split("### Shelter", 1)[1]
    assert (
        "- In natural disasters: International Federation of Red Cross and Red Crescent Societies"
        " (IFRC), convener (formally not a lead). This is the arrangement proposed here."
        in shelter
    )
    assert (
        "- In conflict-induced displacement: Office of the UN High Commissioner for Refugees (UNHCR), lead."
        in shelter
    )
    assert (
        "IFRC convenes this cluster in natural disasters: it is a convener, not a lead agency."
        in shelter
    )


def test_the_other_emergency_s_lead_is_no_arrangement_proposed_here(chat: Chat) -> None:
    """After floods, UNHCR for Shelter differs from the lead that applies (IFRC's convening)."""
    lines = [*WALK, "none"]
    lines[23] = "UNHCR"
    letter = letter_of(chat, lines)
    shelter = section(letter, "Proposed clusters and lead agencies").split("### Shelter", 1)[1]
    assert "This is the arrangement proposed here" not in shelter.split("###")[0]
    assert "[Explain why UNHCR is better placed than the global lead (IFRC).]" in shelter


def test_a_lead_other_than_the_global_one_asks_for_the_reason(chat: Chat) -> None:
    lines = [*WALK, "none"]
    lines[21] = "IOM"
    letter = letter_of(chat, lines)
    health = section(letter, "Proposed clusters and lead agencies").split("### Shelter")[0]
    assert "Proposed lead: International Organization for Migration (IOM)." in health
    assert "[Explain why IOM is better placed than the global lead (WHO).]" in health


def test_the_letter_closes_with_the_request_and_a_signature(chat: Chat) -> None:
    letter = letter_of(chat, [*WALK, "none"])
    request = section(letter, "Request")
    assert "forward this proposal to the IASC Principals for their endorsement" in request
    assert request.rstrip().endswith(
        "Yours sincerely,\n\n[Name]\nResident Coordinator / Humanitarian Coordinator, Sudan\n[Contact details]"
    )
    assert re.search(r"Date: [A-Z][a-z]+ \d{1,2}, \d{4}", letter)


def test_no_cluster_met_says_do_not_send(chat: Chat) -> None:
    letter = letter_of(
        chat,
        ["/checklist", "Sudan", "floods", "health", "no", "yes", "yes"]
        + ["done"] * 8
        + ["yes", "none"],
    )
    assert "Do not send this letter as it stands" in letter
    assert "[None: no cluster meets both activation criteria in the checklist.]" in letter
    assert "forward this proposal" not in letter
    assert "No sharp deterioration or significant change was found." in letter


def test_a_co_lead_equal_to_the_lead_is_refused_with_the_reason(chat: Chat) -> None:
    for line in ["/checklist", "Sudan", "floods", "health", "yes", "yes", "yes"] + ["done"] * 8:
        chat(line)
    assert "Any co-lead for Health" in chat("yes")  # keep WHO
    answer = chat("World Health Organization")
    assert (
        "WHO is already the proposed lead of Health; a co-lead is a second organisation" in answer
    )
    assert "Any co-lead for Health" in answer
    assert "Any co-lead for Health" in chat("who")  # the acronym, in any case
    letter = chat("MSF")
    assert "Proposed co-lead: MSF." in letter


def test_the_question_count_explains_itself(chat: Chat) -> None:
    chat("/checklist")
    chat("Sudan")
    assert "Question 3 of 12" in chat("floods")
    answer = chat("health, shelter")
    assert "There are now 20 questions in all" in answer
    assert "for each of the 2 clusters you chose" in answer
    assert "There are now" not in chat("yes")  # said once, when the count moves


def _grant(chat: Chat, role: str) -> None:
    with session_scope(chat.bot.engine) as session:  # type: ignore[arg-type]
        roles.grant(session, chat.user, role)


def test_submitting_says_the_erc_was_told_only_when_queued(
    chat_as: Callable[..., Chat],
) -> None:
    hc = chat_as("telegram:10")
    _grant(hc, "hc")
    terminal_erc = chat_as("console:erc")
    _grant(terminal_erc, "erc")
    hc("/propose Sudan health")
    hc("/submit 1")
    answer = hc(action=hc.last.choices[0].action)  # type: ignore[union-attr]
    assert "The ERC has been told" not in answer
    assert "Nobody has been told: no one with the ERC role has a chat I can reach" in answer
    assert "clusterbot users grant IDENTITY erc" in answer
    # With an ERC on Telegram, the notice is queued and the reply says so.
    erc = chat_as("telegram:20")
    _grant(erc, "erc")
    erc("/return 1 add numbers")
    returned = erc(action=erc.last.choices[0].action)  # type: ignore[union-attr]
    assert "The proposer has been told, with your feedback." in returned
    hc("/submit 1")
    answer = hc(action=hc.last.choices[0].action)  # type: ignore[union-attr]
    assert "The ERC has been told (1 person with the ERC role)" in answer


def test_whoami_shows_the_identity_to_grant(chat: Chat) -> None:
    answer = chat("/whoami")
    assert "You are console:tester; your role: partner." in answer
    assert "clusterbot users grant console:tester ROLE" in answer


def test_the_summary_keeps_each_point_on_its_own_line(chat: Chat) -> None:
    for line in [*WALK, "none"]:
        chat(line)
    summary = chat.bot.renderer.plain(chat.replies[0])
    assert (
        "• Still missing or unsure: Criterion 2: national capacity for Water, Sanitation and Hygiene\n"
        "• Proposed lead: United Nations Children's Fund (UNICEF)" in summary
    )


START = {
    "en": "start activation checklist",
    "zh": "启动核对清单",
    "fr": "lancer la liste de vérification",
    "es": "iniciar lista de verificación",
    "ar": "قائمة التحقق",
}
NOTES = {
    "en": ("floods destroyed 30,000 homes", "the HCT meets tomorrow"),
    "zh": ("洪水摧毁了30,000所房屋", "人道主义国家工作队明天开会"),
    "fr": ("les inondations ont détruit 30 000 maisons", "l'EHP se réunit demain"),
    "es": ("las inundaciones destruyeron 30.000 viviendas", "el EHP se reúne mañana"),
    "ar": ("دمرت الفيضانات 30,000 منزل", "يجتمع الفريق القطري غدًا"),
}
# Words that are English and not French or Spanish; in Chinese and Arabic any run of three
# Latin-script words is English too.
ENGLISH_WORDS = re.compile(
    r"\b(the|and|been|with|which|your|this|you|here|where|of|to|is|are|not|for|yet|was|were|"
    r"what|who|done|answer|step|lead)\b",
    re.I,
)
LATIN_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ,'’-]+[A-Za-z]{2,}){2,}")


def english_in(text: str, kb: KnowledgeBase, lang: str) -> list[str]:
    """English words left in a reply in `lang`, once agency names and commands are removed."""
    names = sorted(
        {
            n
            for code in kb.languages
            for a in kb.text(code).agencies.values()
            for n in (a.name, a.short)
        },
        key=len,
        reverse=True,
    )
    for name in names:
        text = text.replace(name, " ")
    text = re.sub(r"/\w+", " ", text)  # commands are typed as they are
    found = ENGLISH_WORDS.findall(text)
    if lang in ("zh", "ar"):
        found += LATIN_RUN.findall(text)
    return found


def lines_in(kb: KnowledgeBase, lang: str) -> list[str]:
    """A whole checklist typed in `lang`, with a status, a pause and a resume."""
    t = kb.text(lang)
    word = lambda group: t.checklist_words[group][0]  # noqa: E731
    happened, hct = NOTES[lang]
    clusters = f"{t.sectors['health'].name}, {t.sectors['shelter'].name}, {t.sectors['wash'].name}"
    return [
        START[lang],
        kb.matcher.country_name("SD", lang),
        happened,
        clusters,
        f"{word('yes')}, {happened}",
        word("yes"),
        word("yes"),
        word("yes"),
        word("no"),
        word("status"),
        word("pause"),
        "/checklist",  # resumes, in the checklist's language
        word("yes"),
        word("unsure"),
        word("done"),
        word("done"),
        f"{word('not_yet')}, {hct}",
        word("not_yet"),
        *[word("not_applicable")] * 4,
        word("yes"),
        word("none"),
        word("yes"),
        "NRC",
        word("yes"),
        word("none"),
    ]


def walk_in(chat: Chat, kb: KnowledgeBase, lang: str) -> list[str]:
    """The checklist of `lines_in`, through the bot; every reply's text."""
    lines = lines_in(kb, lang)
    texts = []
    for line in lines:
        texts.append(chat(line))
        assert all(r.lang == lang for r in chat.replies), (line, [r.lang for r in chat.replies])
    assert [r.intent for r in chat.replies] == ["checklist_done", "draft_letter"]
    return texts


@pytest.mark.parametrize("lang", ["en", "zh", "fr", "es", "ar"])
def test_a_whole_checklist_in_each_language_has_no_english(
    chat: Chat, kb: KnowledgeBase, lang: str
) -> None:
    texts = walk_in(chat, kb, lang)
    letter = chat.bot.renderer.plain(chat.replies[1])
    t = kb.text(lang)
    proposed = letter.partition(t.sectors["wash"].name)[0]
    assert t.sectors["health"].name in proposed  # proposed first; WASH (unclear) after
    assert "30" in letter and NOTES[lang][1].split()[-1] in letter
    if lang == "zh":
        assert "。 " not in letter and "： " not in letter  # no space between Chinese sentences
    if lang == "en":
        assert english_in(" ".join(texts), kb, "fr")  # the check does see English
        return
    for line, text in zip(range(len(texts)), texts, strict=True):
        assert not english_in(text, kb, lang), (line, english_in(text, kb, lang), text)


@pytest.mark.parametrize(
    ("question", "source"),
    [
        ("who leads health in Sudan", "Record source: activation proposal #1, endorsed on"),
        ("苏丹的卫生集群由谁牵头？", "记录来源： 第 1 号启动提议，于"),
        ("من يقود مجموعة الصحة في السودان؟", "مقترح التفعيل رقم 1، الذي صودق عليه في"),
    ],
)
def test_an_endorsed_record_names_its_source_in_the_readers_language(
    chat: Chat, kb: KnowledgeBase, question: str, source: str
) -> None:
    from bot.domain import proposals

    with session_scope(chat.bot.engine) as session:  # type: ignore[arg-type]
        hc = roles.grant(session, "telegram:1", "hc")
        erc = roles.grant(session, "telegram:2", "erc")
        p = proposals.create(session, kb, hc, "SD", {"health": ("", "")})
        for who, move in ((hc, "submit"), (erc, "forward"), (erc, "endorse")):
            proposals.apply(session, kb, p.id or 0, who, move)
    answer = chat(question)
    assert source in answer, answer
    assert "Activation proposal" not in answer and "endorsed 20" not in answer


def _xml(paragraph: Any) -> str:
    return str(paragraph._element.xml)


@pytest.mark.parametrize("lang", ["en", "zh", "fr", "es", "ar"])
def test_the_terminal_saves_the_letter_as_markdown_and_word(
    bot: Bot, kb: KnowledgeBase, tmp_path: Path, lang: str
) -> None:
    out = io.StringIO()
    lines = lines_in(kb, lang)
    terminal.chat(bot.handle_sync, bot.renderer, "coordinator", lines, out, False, tmp_path)
    word, md = sorted(tmp_path.glob("activation-draft-*"))
    assert (md.suffix, word.suffix) == (".md", ".docx")
    assert f"[{md.resolve()}]\n[{word.resolve()}]" in out.getvalue()
    t = kb.text(lang)
    letter = docx.Document(str(word))
    paragraphs = [p for p in letter.paragraphs if p.text]
    headings = [p.text for p in paragraphs if p.style.name.startswith("Heading")]
    # Health is proposed (a heading of its own); WASH (unclear) and Shelter (not met) are not.
    assert any(h.startswith(t.sectors["health"].name) for h in headings)
    assert not any(t.sectors["wash"].name in h or t.sectors["shelter"].name in h for h in headings)
    bullets = " ".join(p.text for p in paragraphs if p.style.name == "List Bullet")
    assert t.sectors["wash"].name in bullets and t.sectors["shelter"].name in bullets
    # The Markdown twin says the same, paragraph for paragraph.
    text = md.read_text(encoding="utf-8")
    twin = [re.sub(r"^(#+|-) ", "", line).replace("**", "") for line in text.splitlines() if line]
    assert [p.text for p in paragraphs] == twin
    # Placeholders stand out; Arabic runs right to left; Chinese has an East Asian font.
    placeholder = next(p for p in paragraphs if p.text.startswith("["))
    assert placeholder.runs[0].font.highlight_color is not None
    body = paragraphs[-1]
    if lang == "ar":
        assert all("<w:bidi/>" in _xml(p) and "<w:rtl/>" in _xml(p) for p in paragraphs)
    else:
        assert "<w:bidi/>" not in _xml(body)
    if lang == "zh":
        assert 'w:eastAsia="SimSun"' in _xml(body)
        assert letter.core_properties.language == "zh-CN"


def test_the_proposal_made_from_the_checklist_holds_only_the_met_clusters(chat: Chat) -> None:
    _grant(chat, "coordinator")
    for line in [*WALK, "none"]:
        chat(line)
    created = chat(action=chat.replies[0].choices[0].action)  # "Create an activation proposal"
    assert "Draft proposal #1 created." in created
    assert "Health: World Health Organization (WHO)" in created
    assert "Shelter: " in created
    assert "Camp Coordination" not in created and "Water, Sanitation" not in created


def test_no_met_cluster_makes_no_proposal(chat: Chat) -> None:
    _grant(chat, "coordinator")
    for line in ["/checklist", "Sudan", "floods", "health", "no", "yes", "yes"] + ["done"] * 8:
        chat(line)
    chat("yes")
    chat("none")
    assert chat.replies[0].choices == ()  # no button for a proposal that cannot be made
    refused = chat("/propose")  # from the finished checklist
    assert (
        "no cluster that meets both activation criteria, so there is nothing to propose" in refused
    )
    assert "created" not in refused
    assert "no longer valid" not in chat(action="prop:chk:1")  # an old button: refused, not made
    assert "There are no activation proposals yet" in chat("/proposals")


def test_the_coordinator_may_leave_out_the_clusters_not_proposed(chat: Chat) -> None:
    letter = letter_of(chat, [*WALK, "none"])
    assert "## Clusters considered and not proposed" in letter
    [leave_out] = chat.replies[1].choices
    assert leave_out.label == "Leave out the clusters not proposed"
    short = chat(action=leave_out.action)
    assert chat.replies[0].file_name.endswith(".md")  # the saved files follow the choice
    assert "Clusters considered and not proposed" not in short
    assert "### Health" in short and "CCCM" not in short
    [mention] = chat.replies[0].choices
    assert "## Clusters considered and not proposed" in chat(action=mention.action)
    assert "no longer open" in chat(action="letter:99:short")
    assert "no longer open" in chat(action="letter:1:other")


def test_what_the_user_typed_is_shown_in_the_letter_never_applied(
    bot: Bot, tmp_path: Path
) -> None:
    typed = {
        2: "<b>Darfur</b> *burning*, see [annex]",  # what happened
        4: "yes, # 1 priority: <!here> __now__",  # a sharp change, with a note
        22: "*MSF*",  # Health's co-lead
        1: "Darfur,\n# Sudan",  # a country on two lines, the second a heading
    }
    lines = [*(typed.get(i, line) for i, line in enumerate(WALK)), "none"]
    out = io.StringIO()
    terminal.chat(bot.handle_sync, bot.renderer, "coordinator", lines, out, False, tmp_path)
    word, md = sorted(tmp_path.glob("activation-draft-*"))
    text = md.read_text(encoding="utf-8")
    # In the Markdown every mark the user typed is escaped: a viewer shows it as typed.
    assert "\\<b\\>Darfur\\</b\\> \\*burning\\*, see \\[annex\\]." in text
    assert "# 1 priority: \\<!here\\> \\_\\_now\\_\\_." in text
    assert "Proposed co-lead: \\*MSF\\*." in text
    assert text.startswith("# DRAFT: Proposed cluster activation, Sudan\n")  # no "#" in it
    assert "<b>" not in text.replace("\\<b\\>", "")
    # The Word file holds the very characters typed, no bold, no highlight.
    paragraphs = [p for p in docx.Document(str(word)).paragraphs if p.text]
    situation = next(p for p in paragraphs if "burning" in p.text)
    assert situation.text == "<b>Darfur</b> *burning*, see [annex]."
    assert all(not r.bold and r.font.highlight_color is None for r in situation.runs)
    assert any(p.text.endswith("Proposed co-lead: *MSF*.") for p in paragraphs)
    # In the chat the letter reads as typed: no Markdown escapes (the file has them).
    shown = out.getvalue()
    assert "<b>Darfur</b> *burning*, see [annex]." in shown
    assert "# 1 priority: <!here> __now__." in shown and "Proposed co-lead: *MSF*." in shown
    assert "\\<" not in shown and "\\*" not in shown


def test_the_letter_in_chat_reads_as_typed_and_no_platform_applies_it(chat: Chat) -> None:
    typed = {2: "<b>Darfur</b> *burning* <!here>", 22: "*MSF*"}
    letter_of(chat, [*(typed.get(i, line) for i, line in enumerate(WALK)), "none"])
    letter = chat.replies[1]
    renderer = chat.bot.renderer
    assert "<b>Darfur</b> *burning* <!here>." in renderer.plain(letter)
    # Each platform escapes it its own way: Telegram's HTML, Slack's mrkdwn, WhatsApp's text.
    telegram = renderer.html(letter)
    assert "&lt;b&gt;Darfur&lt;/b&gt; *burning* &lt;!here&gt;." in telegram
    assert "\\" not in telegram
    slack = to_mrkdwn(telegram)
    assert "&lt;b&gt;Darfur&lt;/b&gt; \u200b*\u200bburning\u200b*\u200b &lt;!here&gt;." in slack
    assert "<!here>" not in slack and "\\" not in slack
    whatsapp = to_whatsapp(telegram)
    assert "<b>Darfur</b> \u200b*\u200bburning\u200b*\u200b <!here>." in whatsapp
    assert "Proposed co-lead: \u200b*\u200bMSF\u200b*\u200b." in whatsapp
    # The file alone has them, for a Markdown viewer.
    assert "\\<b\\>Darfur\\</b\\> \\*burning\\* \\<!here\\>." in renderer.document(letter)


def test_the_letter_tells_the_drafter_who_approves_now(chat: Chat) -> None:
    letter = letter_of(chat, [*WALK, "none"])
    request = section(letter, "Request")
    assert "forward this proposal to the IASC Principals" in request
    assert "IASC Emergency Directors Group (EDG) in late 2021" in request
    assert "Check which route applies before sending" in request


@pytest.mark.parametrize(
    ("lang", "typed", "shown"),
    [("en", "sudan", "Sudan"), ("fr", "Soudan", "Soudan"), ("zh", "Sudan", "苏丹")],
)
def test_a_country_typed_alone_is_named_properly_in_the_letter(
    chat: Chat, kb: KnowledgeBase, lang: str, typed: str, shown: str
) -> None:
    lines = lines_in(kb, lang)
    lines[1] = typed
    for line in lines:
        chat(line)
    letter = chat.bot.renderer.plain(chat.replies[1])
    assert shown in letter.splitlines()[0] and typed not in letter.replace(shown, ""), letter


def test_french_and_chinese_punctuation_in_the_summary(chat: Chat, kb: KnowledgeBase) -> None:
    for lang, wrong in (("fr", "Santé:"), ("zh", "卫生: ")):
        chat("/checklist")
        chat(kb.text(lang).checklist_words["cancel"][0])
        for line in lines_in(kb, lang):
            chat(line)
        summary = chat.bot.renderer.plain(chat.replies[0])
        assert wrong not in summary, summary
    assert "： " not in summary and "（" in summary  # Chinese: full-width, no space after


def test_checklist_typed_alone_goes_on_in_the_conversation_s_language(chat: Chat) -> None:
    chat("¿Quién lidera el clúster de salud?")
    assert "Lista de verificación de activación" in chat("/checklist")
    assert chat.last is not None and chat.last.lang == "es"
    chat("Sudán")  # Question 1 has no buttons: the language is kept all the same
    assert "Hola de nuevo" in chat("/checklist")


def test_what_the_user_said_with_unsure_is_in_the_letter(chat: Chat) -> None:
    lines = list(WALK)
    lines[4] = "unsure, the figures come tomorrow"  # the sharp change
    lines[12] = "unsure - waiting for the ministry's assessment"  # WASH's capacity
    letter = letter_of(chat, [*lines, "none"])
    situation = section(letter, "The situation")
    assert "Checklist note: The figures come tomorrow." in situation
    assert "Still to establish:" in letter and "Waiting for the ministry's assessment." in letter


def test_a_note_keeps_the_casing_the_user_typed(chat: Chat) -> None:
    lines = [*WALK, "none"]
    lines[15] = "not yet: hct meeting planned 5 dec"
    lines[6] = "yes - unicef is stretched"
    letter = letter_of(chat, lines)
    assert "Checklist note: hct meeting planned 5 dec." in letter
    assert "humanitarian principles. unicef is stretched." in letter
    assert "Hct" not in letter and "Unicef" not in letter
    assert "The ministry is overwhelmed." not in letter  # replaced above
    assert section(letter, "The situation").startswith("Wind and floods")  # a word: capitalised


@pytest.mark.parametrize(
    ("typed", "lang", "country"),
    [
        ("Mozambique, cyclone response in Sofala", "en", "Mozambique"),
        ("Darfur, Sudan", "en", "Sudan"),
        ("السودان - دارفور", "ar", "السودان"),
    ],
)
def test_the_letter_is_from_the_country_and_the_rest_stands_with_the_situation(
    chat: Chat, kb: KnowledgeBase, typed: str, lang: str, country: str
) -> None:
    lines = lines_in(kb, lang)
    lines[1] = typed
    for line in lines:
        chat(line)
    letter = chat.bot.renderer.plain(chat.replies[1])
    head, _, rest = letter.partition("\n\n")
    for line in (head.splitlines()[0], *rest.splitlines()[:4], letter.splitlines()[-2]):
        assert typed not in line, line
    assert letter.count(country) >= 4, letter  # the title, From, Subject and the signature
    situation = letter.split("\n## ", 2)[1]
    assert typed in situation  # what it says more is kept, with the situation


# Two co-leads named in one answer, and the label the letter and the summary give them.
TWO_CO_LEADS = {
    "en": (
        "Oxfam and Save the Children",
        "Proposed co-leads: Oxfam and Save the Children.",
        "co-leads:",
    ),
    "fr": (
        "Oxfam et Save the Children",
        "Co-chefs de file proposés : Oxfam et Save the Children.",
        "co-chefs de file :",
    ),
    "es": (
        "Oxfam y Save the Children",
        "Colíderes propuestos: Oxfam y Save the Children.",
        "colíderes:",
    ),
    "zh": ("乐施会和救助儿童会", "拟议联合牵头机构：乐施会和救助儿童会。", "联合牵头机构："),
    "ar": (
        "أوكسفام و أطباء بلا حدود",
        "الجهتان المشاركتان في القيادة المقترحتان: أوكسفام و أطباء بلا حدود.",
        "الجهتان المشاركتان في القيادة:",
    ),
}


@pytest.mark.parametrize("lang", sorted(TWO_CO_LEADS))
def test_several_co_leads_have_a_plural_label_and_one_a_singular(
    chat: Chat, kb: KnowledgeBase, lang: str
) -> None:
    typed, in_letter, in_summary = TWO_CO_LEADS[lang]
    lines = lines_in(kb, lang)
    assert lines[-5] == kb.text(lang).checklist_words["none"][0]  # Health's co-lead
    lines[-5] = typed
    for line in lines:
        chat(line)
    summary, letter = (chat.bot.renderer.plain(r) for r in chat.replies)
    assert in_letter in letter, letter
    assert f"{in_summary}" in summary
    single = chat.bot.renderer.plain(chat.replies[1]).split(in_letter)[1]
    assert "Proposed co-leads" not in single  # one co-lead elsewhere keeps the singular
