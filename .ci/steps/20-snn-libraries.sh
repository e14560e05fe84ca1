#!/usr/bin/env bash
# norse 1.1.0 for the tests that run plastix in norse's loops (tests/test_snn_libraries.py,
# tests/test_torch_example.py). norse requires torchvision, which would pull another torch:
# it is installed without its requirements, then the two it imports (nir, nirtorch), pinned;
# with torch 2.13.0 already here neither pulls anything but h5py. snnTorch comes with the dev
# extra (it requires nothing); SpikingJelly 2.0.0 is left out (it needs --no-deps plus
# tensorboard's seven packages): its tests skip, naming it.
set -euo pipefail
python -m pip install -q --no-deps "norse==1.1.0"
python -m pip install -q "nir==1.0.8" "nirtorch==2.6"
python -c "import norse.torch, torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"
