"""Format readers: how a file's real consumer (Word, Excel, Acrobat, an unzip tool) reads it.

Pure functions over bytes, with no policy and no findings of their own: engines turn what these
readers report into findings. Each reader says what it reads, how it bounds its work, and what it
calls ambiguous (two reasonable readers could see different content).
"""
