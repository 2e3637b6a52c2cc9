"""Services shared by every panel: Qt objects with signals, but no widgets."""
