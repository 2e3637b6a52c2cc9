"""Sound as images: an invertible constant-Q codec on nsgt, and phase retrieval. Qt-free."""
