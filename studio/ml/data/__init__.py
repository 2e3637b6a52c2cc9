"""Datasets: built-in synthetic and shipped sets, and the user's folders."""
