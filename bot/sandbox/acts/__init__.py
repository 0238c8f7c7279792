"""The rehearsal's acts, a module each; `bot.sandbox.rehearse.load_acts` finds every module's ACT.

A feature that brings new simulated people (judges, voters, mentors, ...) adds a module here:
an `Act` subclass that says whether the event file calls for it (`applies`), what it plays at
which moment of the event (`moments`), and its section of the report (`report`)."""
