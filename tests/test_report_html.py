"""The report pages come from autoescaped jinja2 templates: a name with markup in it stays text."""

from dataclasses import replace
from html.parser import HTMLParser

from heatmap_latent.analysis import analyze_run, load_run
from heatmap_latent.analysis.grouping import group_runs
from heatmap_latent.core.conf import compose_config
from heatmap_latent.report.report import write_report
from heatmap_latent.study.claims import study_claims
from heatmap_latent.study.steps import STEPS
from heatmap_latent.study.verdicts import RULE, evaluate
from tests.golden import GOLDEN_RUN

NAME = "<script>alert('x')</script> & <b>co</b>"


class Texts(HTMLParser):
    """Every start tag and the text of <title> and <h1>."""

    def __init__(self):
        super().__init__()
        self.tags, self.title, self.h1, self._in = [], "", "", None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in = tag

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "h1":
            self.h1 += data


def test_a_run_named_with_markup_shows_as_text(tmp_path):
    analysis = analyze_run(load_run(GOLDEN_RUN), STEPS)
    analysis = replace(analysis, name=NAME, identity=replace(analysis.identity, name=NAME))
    groups = group_runs([analysis.identity], {NAME: analysis.metrics})
    claims = evaluate(study_claims(compose_config("analyze").claims), groups, {NAME: analysis.metrics})
    write_report(
        [analysis], groups, claims, {"runs": {}}, tmp_path, f"report of {NAME}", figures=False, steps=STEPS, rule=RULE
    )
    for page in (tmp_path / "report.html", next((tmp_path / "runs").glob("*.html"))):
        parsed = Texts()
        parsed.feed(page.read_text())
        assert "script" not in parsed.tags and "b" not in parsed.tags, page.name  # no tag came from the name
        assert NAME in parsed.title and NAME in parsed.h1, page.name  # the name reads as written
    assert "&lt;script&gt;" in (tmp_path / "report.html").read_text()
