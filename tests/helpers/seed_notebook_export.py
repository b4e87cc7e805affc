"""The seed notebook's export cells (In [11], [14], [15], [47], [17], [18]), ported to Python 3
with no change of logic: used to check that armsim reads what the notebook writes.

Usage: python seed_notebook_export.py MODEL.keras MNIST_DIR IMAGE_INDEX OUT.ini [train|test]
"""

import sys

import numpy as np


def export(model, X, index, path):
    x = []
    for layer in model.layers:
        x.append(layer.get_weights())
    wmap1 = np.array(x[1][0])
    bmap1 = np.array(x[1][1])
    wmap2 = np.array(x[4][0])
    bmap2 = np.array(x[4][1])

    writer = wmap1.T.flatten(order='C')
    wmap1_base = 0x20000C54
    f = open(path, "w")
    for entry in writer:
        str1 = "_WFLOAT (" + str(wmap1_base) + "," + str(entry) + ") \n"
        f.write(str1)
        wmap1_base += 4
    f.close()

    wmap2_base = 0x20000F74
    writer = wmap2.T.flatten(order='C')
    f = open(path, "a")
    for entry in writer:
        str1 = "_WFLOAT (" + str(wmap2_base) + "," + str(entry) + ") \n"
        f.write(str1)
        wmap2_base += 4
    f.close()

    input_base = 0x20000014
    input_map = X[index].T
    writer = input_map.flatten(order='C')
    f = open(path, "a")
    for entry in writer:
        str1 = "_WFLOAT (" + str(input_base) + "," + str(entry) + ") \n"
        f.write(str1)
        input_base += 4
    f.close()

    writer = bmap1.flatten(order='C')
    bmap1_base = 0x2000C374
    f = open(path, "a")
    for entry in writer:
        str1 = "_WFLOAT (" + str(bmap1_base) + "," + str(entry) + ") \n"
        f.write(str1)
        bmap1_base += 4
    f.close()

    writer = bmap2.flatten(order='C')
    bmap2_base = 0x2000C394
    f = open(path, "a")
    for entry in writer:
        str1 = "_WFLOAT (" + str(bmap2_base) + "," + str(entry) + ") \n"
        f.write(str1)
        bmap2_base += 4
    f.close()


def main():
    from armsim.model import mnist
    from armsim.model.tfimport import import_keras

    keras = import_keras()
    model = keras.models.load_model(sys.argv[1], compile=False)
    split = sys.argv[5] if len(sys.argv) > 5 else "test"
    data = mnist.load(split, sys.argv[2])
    X = (data.images.astype(np.float32) - 127.5) / 127.5
    X = X[:, :, :, np.newaxis]
    export(model, X, int(sys.argv[3]), sys.argv[4])


if __name__ == "__main__":
    main()
