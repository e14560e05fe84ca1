"""PyTorch modules whose weights learn by a plasticity rule, and hooks that make someone
else's layer plastic.

``import plastix`` never imports torch; ``import plastix.torch`` does. The layers are used in
two calls per time step, in this order::

    current = layer(pre_spikes)    # forward: the synaptic current, remembers pre_spikes
    post_spikes = neurons(current) # any neuron model: norse, snnTorch, SpikingJelly, torch
    layer.learn(post_spikes)       # the rule's step on (the last forward's pre, post)

* :class:`PlasticLinear`: a dense layer (``torch.nn.Linear``'s weight layout);
* :class:`PlasticConv2d`: a 2-d convolution learned by a rule with a convolution layout;
* :class:`PlasticRecurrent`: recurrent or lateral connections of a population to itself;
* :func:`attach` / :class:`PlasticityHook`: a rule on an existing ``Linear``/``Conv2d`` and
  the neurons after it, through forward hooks (as SpikingJelly's ``STDPLearner``);
* :class:`Monitor` (also ``plastix.Monitor``): records weights, traces and changes.

The batch size of every module is taken from the first ``learn`` after it was made or
``reset()``. The rule's traces are buffers of the module (they follow ``.to``, ``.double``,
``.cuda`` and appear in ``state_dict``); the step counter, seed and hyperparameters travel as
the module's extra state. With ``grad_mode=True`` the weight is not changed by ``learn``: the
rule's negative weight change is added to ``weight.grad`` instead, so that any
``torch.optim`` optimiser applies it. The user's guide is ``docs/torch.rst``.
"""

from __future__ import annotations

from plastix._runtime.monitor import Monitor

from ._attach import PlasticityHook, attach
from ._conv import PlasticConv2d
from ._linear import PlasticLinear, PlasticRecurrent
from ._module import PlasticModule

__all__ = ["Monitor", "PlasticConv2d", "PlasticLinear", "PlasticModule", "PlasticRecurrent",
           "PlasticityHook", "attach"]
