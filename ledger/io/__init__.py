"""Readers and writers of files: import formats in, exports out."""
