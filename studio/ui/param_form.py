"""A form built from :class:`studio.contributions.Param` records (one editor per parameter)."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from studio.contributions import Param


def _float_decimals(param: Param) -> int:
    smallest = min(abs(v) for v in (param.default, param.minimum or 1.0) if v) if param.default else 1.0
    return max(2, min(8, 2 - math.floor(math.log10(smallest)))) if smallest else 4


def make_editor(param: Param) -> QWidget:
    if param.choices:
        editor = QComboBox()
        for choice in param.choices:
            editor.addItem(str(choice), choice)
    elif isinstance(param.default, bool):
        editor = QCheckBox()
    elif isinstance(param.default, int):
        editor = QSpinBox()
        editor.setRange(int(param.minimum if param.minimum is not None else -(2**31)),
                        int(param.maximum if param.maximum is not None else 2**31 - 1))
    elif isinstance(param.default, float):
        editor = QDoubleSpinBox()
        editor.setDecimals(_float_decimals(param))
        editor.setRange(param.minimum if param.minimum is not None else -1e12,
                        param.maximum if param.maximum is not None else 1e12)
        editor.setSingleStep(10 ** -editor.decimals() * 10 if param.default < 1e-2 else 0.05)
    else:
        editor = QLineEdit()
    editor.setToolTip(param.help)
    set_value(editor, param.default)
    return editor


def set_value(editor: QWidget, value: Any) -> None:
    if isinstance(editor, QComboBox):
        index = editor.findData(value)
        editor.setCurrentIndex(max(index, 0))
    elif isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
        editor.setValue(value)
    else:
        editor.setText(str(value))


def get_value(editor: QWidget) -> Any:
    if isinstance(editor, QComboBox):
        return editor.currentData()
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
        return editor.value()
    return editor.text()


class ParamForm(QWidget):
    """Edits a dict of parameters."""

    def __init__(self, params: dict[str, Param], parent=None):
        super().__init__(parent)
        self.params = params
        self.editors = {key: make_editor(param) for key, param in params.items()}
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for key, editor in self.editors.items():
            layout.addRow(key.replace("_", " "), editor)

    def values(self) -> dict[str, Any]:
        return {key: get_value(editor) for key, editor in self.editors.items()}

    def set_values(self, values: dict[str, Any]) -> None:
        for key, editor in self.editors.items():
            set_value(editor, values.get(key, self.params[key].default))
