"""Interactive explorers for the book's pages.

``explore(draw, **controls)`` first shows ``draw`` at the controls' default values as an ordinary
figure, so the static page (and a reader without a running kernel) sees a meaningful picture;
then, under it, the ipywidgets controls, which redraw the figure under them when the page runs in
Jupyter, Binder or Colab.

The controls carry a plain-text alternative that names them and says how to use them. A front end
that can run widgets always prefers the widget view to plain text; the static book is configured
never to render widget views (it has no kernel to move them with), so it shows the note instead
of an empty box.
"""

import textwrap

import ipywidgets
import matplotlib.pyplot as plt
from IPython.display import display

WIDGET_VIEW_MIMETYPE = "application/vnd.jupyter.widget-view+json"


def explore(draw, **controls):
    """Show ``draw(**defaults)`` as a static figure, then controls that redraw it below them.

    ``draw`` takes the controls' values as keyword arguments and draws on the current matplotlib
    figure; ``controls`` are ipywidgets (``FloatSlider``, ``IntSlider``, ``Dropdown``...).
    """
    defaults = {name: control.value for name, control in controls.items()}
    draw(**defaults)
    plt.show()
    redrawn = ipywidgets.Output()

    def redraw(change):
        # Only a reader's move draws into the Output widget, never the page's execution: nbclient
        # answers each captured output on the kernel's shell channel, which can stall the build's
        # execution until its timeout (jupyter/nbclient#312).
        with redrawn:
            redrawn.clear_output(wait=True)
            draw(**{name: control.value for name, control in controls.items()})
            plt.show()

    for name, control in controls.items():
        if not control.description:
            control.description = name
        control.observe(redraw, names="value")
    panel = ipywidgets.VBox([*controls.values(), redrawn])
    display(
        {
            WIDGET_VIEW_MIMETYPE: panel._repr_mimebundle_()[WIDGET_VIEW_MIMETYPE],
            "text/plain": offline_note(controls),
        },
        raw=True,
    )


def offline_note(controls):
    """The text shown in place of the controls where no kernel runs them (the static book)."""
    described = ", ".join(describe_control(name, control) for name, control in controls.items())
    note = (
        f"Interactive controls: {described}. The figure above shows their starting values; "
        "run this page (launch button at the top: Binder or Colab, or your own Jupyter) "
        "to move them and redraw the figure."
    )
    # Plain text is shown as preformatted: break the lines so it fits the page.
    return textwrap.fill(note, width=72)


def describe_control(name, control):
    """``name`` with the range or the choices of ``control``, e.g. ``temperature (0.1 to 5.0)``."""
    if hasattr(control, "min") and hasattr(control, "max"):
        return f"{name} ({control.min:g} to {control.max:g})"
    if hasattr(control, "options"):
        # Options are either labels or (label, value) pairs.
        labels = [option[0] if isinstance(option, tuple) else option for option in control.options]
        return f"{name} ({', '.join(str(label) for label in labels)})"
    return name
