"""The tf_keras (Keras 2) twin of `train.py`: the same script with
`import tf_keras as keras`.

    python tests/backends/train_tf_keras.py LOGDIR/tf_keras
"""

from __future__ import annotations

import sys

import tf_keras
import train

if __name__ == "__main__":
    print(train.main(tf_keras, sys.argv[1]).logged_steps)
