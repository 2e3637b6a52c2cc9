"""The layout shared by panels that look at one model: the model picker across the top, a
scrolling column of controls on the left, the panel's view on the right, a splitter between."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget


def lay_out_model_panel(panel: QWidget, picker: QWidget, controls: list[QWidget], view: QWidget,
                        controls_width: int, view_width: int, stretch: QWidget | None = None) -> None:
    """``controls`` top to bottom; ``stretch`` (one of them) takes the column's spare height, else
    the column ends in empty space."""
    column_widget = QWidget()
    column = QVBoxLayout(column_widget)
    column.setContentsMargins(0, 0, 4, 0)
    for widget in controls:
        column.addWidget(widget, 1 if widget is stretch else 0)
    if stretch is None:
        column.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidget(column_widget)
    scroll.setWidgetResizable(True)
    scroll.setMinimumWidth(controls_width)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(scroll)
    split.addWidget(view)
    split.setStretchFactor(1, 1)
    split.setSizes([controls_width, view_width])
    model_row = QHBoxLayout()
    model_row.addWidget(QLabel("<b>Model</b>"))
    model_row.addWidget(picker, 1)
    layout = QVBoxLayout(panel)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addLayout(model_row)
    layout.addWidget(split, 1)
