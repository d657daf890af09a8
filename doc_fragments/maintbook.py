"""Ansible documentation fragment `maintbook`: the options the lifecycle modules share.

A module in library/ says `extends_documentation_fragment: [maintbook]` for `context`,
`root` and `run`, and `maintbook.batch` for `batch`. Its ARGUMENT_SPEC still spells these
options for the action plugin (tests/modules checks the two agree); Ansible finds this folder
through `doc_fragment_plugins`, which maintbook sets wherever it names its plugin folders.
"""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  context:
    description: The maintenance's context as maintbook compiles it (C(maintbook_context))
      - its facts, gate, channels, status page, silence and state database. Literal data.
    type: dict
    required: true
  root:
    description: The project root (C(maintbook_root)); relative paths of the context resolve
      against it.
    type: path
    required: true
  run:
    description: The run as C(maintenance_window) returned it with C(state=open)
      (C(maintbook_run)).
    type: dict
"""

    BATCH = r"""
options:
  batch:
    description: A rolling run's current batch (C(number) of C(total)), which the text names
      ("batch 2 of 4").
    type: dict
    suboptions:
      number:
        description: This batch, from 1.
        type: int
        required: true
      total:
        description: How many batches the run has.
        type: int
        required: true
"""
