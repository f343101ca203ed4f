"""``autograder.widgets.explore``: a static figure first, controls that redraw only when moved."""

import matplotlib

matplotlib.use("Agg")

import ipywidgets  # noqa: E402
import pytest  # noqa: E402

from autograder import widgets  # noqa: E402


@pytest.fixture
def shown(monkeypatch):
    """What ``explore`` hands to IPython's ``display``."""
    bundles = []
    monkeypatch.setattr(widgets, "display", lambda bundle, raw: bundles.append(bundle))
    return bundles


def test_explore_draws_the_defaults_once_and_redraws_on_a_move(shown):
    drawn = []
    temperature = ipywidgets.FloatSlider(value=1.0, min=0.1, max=5.0)
    head = ipywidgets.Dropdown(options=[("first", 0), ("second", 1)], value=1)
    widgets.explore(lambda temperature, head: drawn.append((temperature, head)), temperature=temperature, head=head)
    # Executing the page draws the static figure only: nothing is captured in the Output widget.
    assert drawn == [(1.0, 1)]
    temperature.value = 2.5
    assert drawn == [(1.0, 1), (2.5, 1)]
    assert temperature.description == "temperature" and head.description == "head"


def test_explore_offers_a_note_where_no_kernel_runs_the_controls(shown):
    slider = ipywidgets.IntSlider(value=3, min=1, max=10)
    widgets.explore(lambda steps: None, steps=slider)
    (bundle,) = shown
    assert set(bundle) == {widgets.WIDGET_VIEW_MIMETYPE, "text/plain"}
    note = bundle["text/plain"]
    assert note.startswith("Interactive controls: steps (1 to 10).")
    assert all(len(line) <= 72 for line in note.splitlines())


def test_describe_control_names_ranges_and_choices():
    assert widgets.describe_control("T", ipywidgets.FloatSlider(min=0.1, max=5.0)) == "T (0.1 to 5)"
    choices = ipywidgets.Dropdown(options=[("soft", 0), ("hard", 1)])
    assert widgets.describe_control("kind", choices) == "kind (soft, hard)"
    assert widgets.describe_control("causal", ipywidgets.Checkbox()) == "causal"
