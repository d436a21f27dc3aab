import json

import pytest

from service.qa.refusal import Evidence, RefusalModel


def _evidence(**kw):
    base = dict(cosine=0.5, retrieval=0.5, overlap=0.5, rejected=0.0, foreign=0.0)
    return Evidence(**(base | kw))


def test_probability_follows_the_weights(tmp_path):
    model = RefusalModel({"cosine": 10.0, "rejected": -20.0}, bias=-5.0, threshold=0.5)
    assert model.probability(_evidence(cosine=0.6)) > model.probability(_evidence(cosine=0.4))
    assert model.answers(_evidence(cosine=0.6)) and not model.answers(_evidence(cosine=0.4))
    # A closer sentence bound to something else lowers the belief that the quote answers.
    assert not model.answers(_evidence(cosine=0.6, rejected=0.1))
    path = tmp_path / "m.json"
    model.save(path)
    assert RefusalModel.load(path) == model


def test_unknown_features_are_refused(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"weights": {"cosine": 1, "colour": 2}, "bias": 0, "threshold": 0.5}))
    with pytest.raises(ValueError, match="colour"):
        RefusalModel.load(path)


@pytest.mark.slow
def test_a_learned_model_decides_only_after_the_rules(embedder, corpus_settings, corpus_index, tmp_path):
    """A model that always says yes still cannot answer what the binding rules refuse; one
    that always says no refuses everything; both are set the way an operator sets them."""
    from service.config import Settings
    from service.qa.pipeline import QAPipeline

    answered, near_miss = "中国移动2024年资本开支是多少？", "中国联通2024年资本开支是多少？"
    replies = {}
    for name, bias in (("yes", 50.0), ("no", -50.0)):
        path = tmp_path / f"{name}.json"
        RefusalModel({"cosine": 0.0}, bias=bias, threshold=0.5).save(path)
        settings = Settings(index_dir=corpus_settings.index_dir, refusal_model=path)
        pipeline = QAPipeline(embedder, settings.pipeline_params())
        replies[name] = {q: pipeline.ask_with_assessment(corpus_index, q) for q in (answered, near_miss)}
    reply, assessment = replies["yes"][answered]
    assert reply.answerable and "1730" in reply.answer and assessment.evidence is not None
    assert not replies["yes"][near_miss][0].answerable  # bound to China Mobile, not China Unicom
    assert not replies["no"][answered][0].answerable and replies["no"][answered][1].rules_pass
