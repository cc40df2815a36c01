#!/usr/bin/python3
"""Writes the small dataset files the bad-scenario corpus uses (tests/app/bad-data/*): each is
consistent in itself (its header agrees with its size) but does not fit the scenario's model.
Committed; re-run this script to regenerate them byte for byte."""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def idx(folder, prefix, images, h, w, labels=None, gz=False, label_values=None):
    os.makedirs(folder, exist_ok=True)
    labels = images if labels is None else labels
    img = struct.pack(">IIII", 2051, images, h, w) + bytes((i * 7) % 256 for i in range(images * h * w))
    values = label_values or [i % 10 for i in range(labels)]
    lab = struct.pack(">II", 2049, labels) + bytes(values)
    name = os.path.join(folder, prefix + "-images-idx3-ubyte")
    if gz:
        with open(name + ".gz", "wb") as f:
            f.write(gzip.compress(img, mtime=0))
    else:
        with open(name, "wb") as f:
            f.write(img)
    with open(os.path.join(folder, prefix + "-labels-idx1-ubyte"), "wb") as f:
        f.write(lab)


def at(name):
    return os.path.join(HERE, name)


idx(at("idx-16x16"), "train", 2, 16, 16)
idx(at("idx-16x16"), "t10k", 2, 16, 16)
idx(at("idx-test-16x16"), "train", 2, 28, 28)
idx(at("idx-test-16x16"), "t10k", 2, 16, 16)
idx(at("idx-label-10"), "train", 2, 28, 28, label_values=[3, 10])
idx(at("idx-label-10"), "t10k", 2, 28, 28)
idx(at("idx-count-mismatch"), "train", 3, 28, 28, labels=2)
idx(at("idx-count-mismatch"), "t10k", 2, 28, 28)
idx(at("idx-gz-32x32"), "train", 2, 32, 32, gz=True)
idx(at("idx-gz-32x32"), "t10k", 2, 32, 32, gz=True)
idx(at("idx-no-images"), "train", 0, 28, 28)
idx(at("idx-no-images"), "t10k", 2, 28, 28)

cifar = at("cifar-label-12")
os.makedirs(cifar, exist_ok=True)
for i, name in enumerate(["data_batch_%d.bin" % b for b in range(1, 6)] + ["test_batch.bin"]):
    with open(os.path.join(cifar, name), "wb") as f:
        f.write(bytes([12 if i == 2 else 1]) + bytes(3072))

digits = at("digits-10-samples")
os.makedirs(digits, exist_ok=True)
with open(os.path.join(digits, "digits.csv"), "w") as f:
    for i in range(10):
        f.write(",".join(["0"] * 64 + [str(i)]) + "\n")
