"""rlsuite.logger: SB3 tag names on the env-step axis, the episode window, resume purging."""

from __future__ import annotations

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rlsuite import logger as tags
from rlsuite.logger import Logger


def scalars(log_dir, tag: str) -> list[tuple[int, float]]:
    events = EventAccumulator(str(log_dir))
    events.Reload()
    return [(e.step, e.value) for e in events.Scalars(tag)]


def test_dump_writes_means_and_episode_window_at_the_env_step(tmp_path):
    logger = Logger(tmp_path, write_every=40)
    logger.record(tags.POLICY_LOSS, 1.0)
    logger.record(tags.POLICY_LOSS, 3.0)
    logger.record_episode(10.0, 5, success=None)
    logger.dump(step=40)
    logger.record(tags.POLICY_LOSS, 0.0)
    values = logger.dump(step=80)
    logger.close()
    assert scalars(tmp_path, tags.POLICY_LOSS) == [(40, 2.0), (80, 0.0)]
    assert scalars(tmp_path, tags.EP_REW_MEAN) == [(40, 10.0), (80, 10.0)]
    assert tags.FPS in values and tags.SUCCESS_RATE not in values


def test_dump_writes_every_so_many_steps_with_the_means_since_the_last_write(tmp_path):
    logger = Logger(tmp_path, write_every=100)
    written = []
    for update in range(1, 8):  # updates of 40 env steps: 40, 80, ..., 280
        logger.record(tags.VALUE_LOSS, float(update))
        written.append(bool(logger.dump(step=40 * update)))
    logger.record(tags.VALUE_LOSS, 100.0)
    assert logger.dump(step=300, force=True)  # the end of a run writes what is left
    assert logger.dump(step=300, force=True) == {}  # never twice at one step
    logger.close()
    assert written == [True, False, True, False, True, False, False]
    # 40 (first), 120 (crossed 100: mean of 2, 3), 200 (mean of 4, 5), 300 (mean of 6, 7, 100)
    expected = [(40, 1.0), (120, 2.5), (200, 4.5), (300, pytest.approx(113 / 3))]
    assert scalars(tmp_path, tags.VALUE_LOSS) == expected


def test_state_dict_carries_the_episode_window():
    logger = Logger(window=2)
    for i in range(3):
        logger.record_episode(float(i), i + 1, success=bool(i % 2))
    resumed = Logger(window=2)
    resumed.load_state_dict(logger.state_dict())
    assert list(resumed.episode_returns) == [1.0, 2.0]
    assert resumed.dump(step=1)[tags.SUCCESS_RATE] == 0.5


def test_purge_step_hides_what_a_crashed_session_wrote_after_its_checkpoint(tmp_path):
    first = Logger(tmp_path)
    for step in (10, 20, 30):  # the checkpoint was at 20; 30 was written before a crash
        first.write_now(tags.EVAL_MEAN_REWARD, step, step)
    first.close()
    resumed = Logger(tmp_path, purge_step=21)
    resumed.write_now(tags.EVAL_MEAN_REWARD, -30.0, 30)
    resumed.close()
    assert scalars(tmp_path, tags.EVAL_MEAN_REWARD) == [(10, 10.0), (20, 20.0), (30, -30.0)]


def test_memory_only_logger_keeps_latest_values():
    logger = Logger()
    logger.write_now(tags.EVAL_MEAN_REWARD, 5.0, step=100)
    assert logger.latest[tags.EVAL_MEAN_REWARD] == 5.0
    logger.log_hparams({"lr": 0.1}, {})  # no writer: nothing to do, no error


def test_task_returns_are_logged_beside_the_env_return_where_an_env_reports_them(tmp_path):
    logger = Logger(tmp_path, window=3)
    logger.record_episode(0.4, 10, success=False, task_return=0.0)  # shaped: paid for progress
    logger.record_episode(1.3, 12, success=True, task_return=1.0)
    logger.dump(step=100)
    logger.close()
    assert scalars(tmp_path, tags.EP_REW_MEAN) == [(100, pytest.approx(0.85))]
    assert scalars(tmp_path, tags.EP_TASK_REW_MEAN) == [(100, 0.5)]
    # An env without task rewards (CartPole) gets no task curve.
    plain = Logger()
    plain.record_episode(20.0, 20, success=None)
    assert tags.EP_TASK_REW_MEAN not in plain.dump(step=1)


def test_state_dict_carries_the_task_returns_and_reads_older_ones():
    logger = Logger()
    logger.record_episode(2.0, 5, success=True, task_return=1.0)
    resumed = Logger()
    resumed.load_state_dict(logger.state_dict())
    assert resumed.dump(step=1)[tags.EP_TASK_REW_MEAN] == 1.0
    older = {k: v for k, v in logger.state_dict().items() if k != "episode_task_returns"}
    from_older = Logger()
    from_older.load_state_dict(older)
    assert tags.EP_TASK_REW_MEAN not in from_older.dump(step=1)
