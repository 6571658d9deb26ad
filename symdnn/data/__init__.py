"""Data: the real data sets symdnn works on (a registry, fetched with pooch and checked), and
the word lists shipped with symdnn.

>>> from symdnn.data import DATASETS, dataset_path
>>> sorted(DATASETS)[:3]
['graphchallenge-1024', 'graphchallenge-16384', 'graphchallenge-4096']
"""

from __future__ import annotations

from symdnn.data.fetcher import FetchReport, fetch, find_in, verify_file
from symdnn.data.registry import (
    DATASETS,
    DataFile,
    DataListing,
    Dataset,
    data_root,
    dataset,
    dataset_path,
    is_fetched,
    listing,
)
from symdnn.data.wordlists import BUNDLED, read_words, words

__all__ = ["words", "read_words", "BUNDLED", "DATASETS", "DataFile", "Dataset", "data_root",
           "dataset", "dataset_path", "is_fetched", "fetch", "verify_file", "find_in",
           "FetchReport", "DataListing", "listing"]
