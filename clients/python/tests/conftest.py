import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
VECTORS = os.environ.get("XAI_VECTORS_DIR", os.path.join(HERE, "..", "..", "..", "docs", "spec", "vectors"))


def load(name):
    with open(os.path.join(VECTORS, name)) as f:
        return json.load(f)
