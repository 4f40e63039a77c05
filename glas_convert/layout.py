"""Names and patterns of the raw GlaS@MICCAI'2015 release, and of the one class we export.

Only constants live here, so every reader and writer agrees on them.
"""

from __future__ import annotations

import re

#: Image file of one sample: ``NAME.bmp`` (24-bit RGB BMP).
IMAGE_SUFFIX = ".bmp"
#: Instance annotation of one sample: ``NAME_anno.bmp`` (8-bit gray BMP, 0 = background).
ANNOTATION_TAG = "_anno"
#: Image and annotation suffixes we accept, in order of preference.
IMAGE_SUFFIXES = (".bmp", ".png", ".tif", ".tiff")
#: Grade file of the release.
GRADE_CSV = "Grade.csv"

#: Sample names look like ``train_12``, ``testA_3`` or ``testB_20``.
NAME_PATTERN = re.compile(r"^(train|testA|testB)_(\d+)$")

#: Prefix in the file name -> split name used everywhere in glas-convert.
SPLIT_OF_PREFIX = {"train": "train", "testA": "test_a", "testB": "test_b"}
#: All splits, in release order.
SPLITS = ("train", "test_a", "test_b")

#: Grade.csv columns, in file order, as glas-convert names them.
GRADE_FIELDS = ("name", "patient_id", "grade_glas", "grade_sirinukunwattana")
GRADES_GLAS = ("benign", "malignant")
#: Sirinukunwattana grades as glas-convert spells them. The release misspells
#: "moderately-to-poorly differentated"; the reader corrects it to the spelling below.
GRADES_SIRINUKUNWATTANA = (
    "healthy",
    "adenomatous",
    "moderately differentiated",
    "moderately-to-poorly differentiated",
    "poorly differentiated",
)
GRADE_SPELLING_FIXES = {
    "moderately-to-poorly differentated": "moderately-to-poorly differentiated",
}

#: The only class: every gland is an instance of it.
CLASS_NAME = "gland"
COCO_CATEGORY_ID = 1

#: Glands under this many pixels count as "tiny" in reports.
TINY_GLAND_PX = 10

#: Marker file that glas-convert writes into every output folder it creates.
OUTPUT_MARKER = ".glas-convert"

DATASET_NAME = "GlaS@MICCAI'2015 (Warwick-QU) gland segmentation"
DATASET_TERMS = (
    "Research use only; commercial use is not allowed. Cite Sirinukunwattana et al., "
    "Medical Image Analysis 35 (2017), and Sirinukunwattana, Snead, Rajpoot, IEEE TMI 2015."
)
