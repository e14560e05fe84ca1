"""Kernels written once against an array namespace ``xp``, for ops no library spells alike.

They use only slicing, ``stack``, ``moveaxis`` and ``reshape``, which NumPy, PyTorch and CuPy
share, so every backend lowers the op the same way; a backend with a faster native kernel
overrides the op's entry in its lowering table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plastix._ops import conv_output_size, pair


def unfold(x: Any, kernel: Any, stride: Any, padding: Any, dilation: Any, *, xp: Any,
           zeros: Callable[[tuple[int, ...], Any], Any]) -> Any:
    """im2col: the patches of ``x`` (B, C, H, W) as (B, L, C*kh*kw).

    ``L`` runs over output positions row-major; a row holds one patch, channel-major, then
    kernel row, then kernel column, the order of ``weight.reshape(out_channels, -1)``.
    ``zeros(shape, like)`` makes a zero array on ``like``'s device (for padding).
    """
    (kh, kw), (sh, sw) = pair(kernel), pair(stride)
    (ph, pw), (dh, dw) = pair(padding), pair(dilation)
    b, c, h, w = x.shape
    ho = conv_output_size(h, kh, sh, ph, dh)
    wo = conv_output_size(w, kw, sw, pw, dw)
    if ph or pw:
        padded = zeros((b, c, h + 2 * ph, w + 2 * pw), x)
        padded[:, :, ph:ph + h, pw:pw + w] = x
        x = padded
    cols = [x[:, :, i * dh: i * dh + sh * (ho - 1) + 1: sh,
              j * dw: j * dw + sw * (wo - 1) + 1: sw].reshape(b, c, ho * wo)
            for i in range(kh) for j in range(kw)]
    patches = xp.stack(cols, 2)  # (B, C, kh*kw, L)
    return xp.moveaxis(patches, 3, 1).reshape(b, ho * wo, c * kh * kw)
