"""The runtime: rules bound to weights and stepped.

Owns: :class:`~.learner.Learner` (a rule chosen by name with its hyperparameters and backend)
and ``load``; :class:`~.binding.Binding` (one rule on one weight: its arrays, its compiled
steps and their private state, stepping, reset, hyperparameter changes); the hooks and
observers at its seams (:mod:`.seams`); its batch layouts (:mod:`.layout`: the batch size
taken from the first step after a reset); the input contract every argument is checked
against (:mod:`.contract`); checked steps and debug mode (:mod:`.checked`); state dicts
(:mod:`.statedict`) and files (:mod:`.io`); groups of bindings (:mod:`.group`), delay lines
(:mod:`.delays`), monitors (:mod:`.monitor`) and the canns-style trainer (:mod:`.trainer`).

May import: the compiler's package interface (``plastix._compiler``), the rule-author layer,
the backends' package interface, the registry's tables, and ``plastix.network``. Never the
public modules built on it (``plastix.torch``, ``plastix.distributed``) or the applications.
"""
