"""The main window and the widgets shared by panels."""
