"""``vla-record``: write successful scripted-expert episodes to a dataset (resumable).

    vla-record output_dir=data/demos episodes_per_suite=50 num_workers=2
    vla-record split=test suites=[single] episodes_per_suite=20 output_dir=data/demos_test
    vla-record suites=[structured] episodes_per_suite=600 learner=vla/assets/rt1 learner_prob=0.5

Options: :class:`vla.data.recording.RecordConfig`; see :mod:`vla.data.recording` for what
is recorded and how a rerun resumes. Bad input ends in one line with exit code 2.
"""

from vla.cli.app import hydra_app
from vla.data.recording import RecordConfig, record

main = hydra_app(
    "vla-record", "record", RecordConfig, record, "finished episodes are safe, rerun to resume"
)

if __name__ == "__main__":
    main()
