"""Core-lab reading: several readers per patient, adjudication, reader agreement, audit trail.

A cohort is patients; each patient may have readings by several readers (role ``reader``) and
possibly an adjudicator's own reading (role ``adjudicator``). :mod:`.readings` groups stored
assessments so; :mod:`.adjudication` decides which patients need adjudication, stores the
adjudicator's decisions and picks the reading each patient's endpoints come from;
:mod:`.agreement` measures how far the readers agree. Submodules import their statistics
libraries lazily, so importing this package stays cheap.
"""
