"""The plugin-test fixtures' leak check, run on a small test file the way a plugin author runs theirs."""

pytest_plugins = ["pytester"]

LEAKY_TESTS = '''
import threading

import pytest
from PySide6.QtWidgets import QLabel, QWidget

from studio import hookimpl
from studio.contributions import PanelSpec

KEPT = []
STOP = threading.Event()


class LabelPlugin:
    @hookimpl
    def register_panels(self):
        return [PanelSpec("label", "Label", lambda studio: QLabel("label"))]


pytestmark = pytest.mark.studio_plugins(LabelPlugin(), builtins=False)


def test_clean(studio_window):
    assert list(studio_window.studio.panels) == ["label"]


def test_keeps_its_panel(studio_window):
    KEPT.append(studio_window.studio.panels["label"])


def test_leaves_a_thread_running(studio_window):
    threading.Thread(target=STOP.wait, name="forgotten", daemon=True).start()


def test_leaves_a_window_open(studio_window):
    window = QWidget()
    window.setWindowTitle("forgotten window")
    window.show()
    KEPT.append(window)


def test_a_failing_test_is_not_checked_as_well(studio_window):
    KEPT.append(studio_window.studio.panels["label"])
    assert False, "the test's own failure"


@pytest.mark.studio_plugins()
def test_closest_marker_wins_and_a_studio_with_no_plugin_is_clean(studio_window):
    assert studio_window.studio.panels == {}


def test_make_studio_is_checked_too(make_studio):
    KEPT.append(make_studio(discover=False))


def test_finally(studio_window):
    STOP.set()
'''


def test_leaks_fail_the_teardown_with_what_was_left_behind(pytester):
    pytester.makepyfile(test_leaky=LEAKY_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=7, failed=1, errors=4)  # errors: at teardown
    output = result.stdout.str()
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_keeps_its_panel*",
        "the test left behind:",
        "  panel 'label' (QLabel) is still alive after garbage collection, held by a list",
    ])
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_leaves_a_thread_running*",
                                 "the test left behind:", "  Python thread 'forgotten' is still running"])
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_leaves_a_window_open*",
                                 "the test left behind:", "  window QWidget 'forgotten window' is still open"])
    assert "ERROR at teardown of test_a_failing_test" not in output  # one failure is enough
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_make_studio_is_checked_too*",
                                 "the test left behind:", "  the Studio is still alive after garbage collection*"])


def test_studio_window_without_the_marker_says_what_to_add(pytester):
    pytester.makepyfile("def test_forgot_the_marker(studio_window):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*studio_window needs the plugins to load: @pytest.mark.studio_plugins(my_plugin)"])
