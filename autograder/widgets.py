"""Interactive explorers for the book's pages.

``explore(draw, **controls)`` first shows ``draw`` at the controls' default values as an ordinary
figure, so the static page (and a reader without a running kernel) sees a meaningful picture;
then, under it, the ipywidgets controls that redraw the figure when the page runs in Jupyter,
Binder or Colab.
"""

import ipywidgets
import matplotlib.pyplot as plt
from IPython.display import display


def explore(draw, **controls):
    """Show ``draw(**defaults)`` as a static figure, then sliders bound to ``draw``.

    ``draw`` takes the controls' values as keyword arguments and draws on the current matplotlib
    figure; ``controls`` are ipywidgets (``FloatSlider``, ``IntSlider``, ``Dropdown``...).
    """
    defaults = {name: control.value for name, control in controls.items()}
    draw(**defaults)
    plt.show()
    display(ipywidgets.interactive(draw, **controls))
