"""The knowledge files load, cite their sources, and any gap in any language fails loudly."""

import shutil
from pathlib import Path

import pytest
import yaml

from knowledge import LANGUAGES, KnowledgeBase, KnowledgeError, load
from knowledge.base import DATA_DIR
from knowledge.matching import normalize


def test_eleven_clusters_each_with_a_lead_and_a_source(kb: KnowledgeBase) -> None:
    assert len(kb.clusters) == 11
    for cluster in kb.clusters:
        assert cluster.leads and cluster.sources


def test_every_language_names_everything(kb: KnowledgeBase) -> None:
    assert tuple(kb.languages) == LANGUAGES
    for lang in kb.languages.values():
        for key in kb.sectors:
            assert lang.sectors[key].name
        for key in kb.concepts:
            assert lang.concepts[key].body and lang.concepts[key].keywords


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_a_missing_translation_is_reported(tmp_path: Path, lang: str) -> None:
    data = _copy(tmp_path)
    path = data / f"{lang}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    del raw["concepts"]["provider_of_last_resort"]["body"]
    raw["clusters"]["health"]["name"] = ""
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load(data)
    assert f"{lang}.yaml: concepts.provider_of_last_resort.body is missing" in str(err.value)
    assert f"{lang}.yaml: clusters.health.name is missing" in str(err.value)


def test_a_fact_without_source_or_with_unknown_agency_is_reported(tmp_path: Path) -> None:
    data = _copy(tmp_path)
    path = data / "facts.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["clusters"]["health"]["sources"] = []
    raw["clusters"]["nutrition"]["leads"][0]["agency"] = "ACME"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load(data)
    assert "clusters.health has no source" in str(err.value)
    assert "clusters.nutrition names unknown agency" in str(err.value)


def test_a_country_list_under_the_wrong_key_is_reported(tmp_path: Path) -> None:
    # Aliases that slipped under ambiguous_country_names would read "gaza" as no country.
    data = _copy(tmp_path)
    path = data / "fr.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["ambiguous_country_names"]["PS"] = ["gaza", "cisjordanie"]
    raw["country_names"]["Soudan"] = "Soudan"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load(data)
    assert "fr.yaml: ambiguous_country_names names 'GAZA', which is no country code" in str(
        err.value
    )
    assert "fr.yaml: country_names names 'SOUDAN'" in str(err.value)


@pytest.mark.parametrize(
    ("question", "country"),
    [
        ("who leads health in gaza?", "PS"),
        ("who leads health in CAR?", "CF"),
        ("qui dirige la santé en Birmanie ?", "MM"),
        ("quién lidera salud en Costa de Marfil", "CI"),
        ("من يقود الصحة في غزة", "PS"),
        ("缅甸的卫生集群谁牵头", "MM"),
    ],
)
def test_every_countrys_aliases_are_read(kb: KnowledgeBase, question: str, country: str) -> None:
    assert kb.matcher.entities(question).countries == (country,)


def test_everyday_words_name_no_country(kb: KnowledgeBase) -> None:
    for text in ("help us understand who leads nutrition", "who leads shelter? tell us"):
        e = kb.matcher.entities(text)
        assert e.countries == () and e.country_choices == (), text


def test_a_missing_language_file_is_reported(tmp_path: Path) -> None:
    data = _copy(tmp_path)
    (data / "ar.yaml").unlink()
    with pytest.raises(KnowledgeError, match=r"ar\.yaml is missing"):
        load(data)


def test_no_alias_points_at_two_clusters(kb: KnowledgeBase) -> None:
    owner: dict[str, str] = {}
    for lang in kb.languages.values():
        for key, names in lang.sectors.items():
            for alias in (names.name, *names.aliases):
                norm = normalize(alias)
                assert owner.setdefault(norm, key) == key, (
                    f"{alias!r} names {owner[norm]} and {key}"
                )


def test_normalize_folds_case_accents_and_arabic_forms() -> None:
    assert normalize("Qui dirige le cluster SANTÉ ?") == "qui dirige le cluster sante"
    assert normalize("أمن غذائي") == normalize("امن غذائي")
    assert normalize("ＷＡＳＨ") == "wash"
    # A lone surrogate, as a broken \ud800 escape makes, folds like any punctuation.
    assert normalize("谁牵头\ud800卫生") == normalize("谁牵头 卫生")
