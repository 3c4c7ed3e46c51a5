"""prefc inside the tools researchers already use.

=========================  ==========================================================================
module                     what it does
=========================  ==========================================================================
``rubric``                 the public scoring interface: load a rubric, score an answer against
                           every preference, summarise (accuracy per preference, nearest type, kappa)
``openai_export``          a dataset's rows as OpenAI fine-tuning files, one per preference and split
``openai_finetune``        ``prefc train --backend openai``: a hosted fine-tuning job, followed to its end
``lm_eval``                ``prefc export lm-eval``: a task directory for lm-evaluation-harness
``inspect_task``           the Inspect AI task ``prefc/rubric`` and scorer ``prefc/preferences``
``gambit``                 Gambit ``.nfg``/``.efg`` files: reading and writing
``output``                 writing an export's files atomically
``games``                  ``prefc import``: a Gambit game as a ``.pref`` spec
``game_export``            ``prefc export nfg|efg``: a finite prefc game as a Gambit file
=========================  ==========================================================================

docs/interop.md has a runnable example of each. Heavy consumers (``inspect-ai``, ``lm-eval``,
``openai``, ``open-spiel``, ``pygambit``) are extras and imported only by the code that needs them.
"""

__all__: list[str] = []
