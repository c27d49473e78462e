"""The accuracy corpus: labelled fake credentials in realistic files, plus hard negatives.

Generated at run time into ``bench/.work/`` (gitignored); nothing generated
is committed. See ``bench/corpus/generate.py``.
"""
