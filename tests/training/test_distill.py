"""Knowledge distillation: the loss optimum-intel's trainer used, and a teacher that never learns."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from ov_movement.errors import StageError
from ov_movement.training.distill import Distiller, distillation_loss


def test_loss_is_temperature_scaled_kl_of_the_soft_targets():
    student = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
    teacher = torch.tensor([[1.0, 1.0, -2.0], [3.0, 0.0, 0.0]])
    t = 2.0
    p = F.softmax(teacher / t, dim=-1)
    log_q = F.log_softmax(student / t, dim=-1)
    by_hand = (p * (p.log() - log_q)).sum(-1).mean() * t * t
    assert distillation_loss(student, teacher, t).item() == pytest.approx(by_hand.item(), rel=1e-6)
    assert distillation_loss(teacher, teacher, t).item() == pytest.approx(0.0, abs=1e-6)


def test_question_answering_distils_start_and_end_over_the_sequence():
    torch.manual_seed(0)
    student, teacher = torch.randn(3, 7, 2), torch.randn(3, 7, 2)
    start = distillation_loss(student[..., 0], teacher[..., 0], 1.5)
    end = distillation_loss(student[..., 1], teacher[..., 1], 1.5)
    assert distillation_loss(student, teacher, 1.5).item() == pytest.approx(
        ((start + end) / 2).item(), rel=1e-6
    )


def test_mismatched_teacher_is_named():
    with pytest.raises(StageError, match="same task and labels"):
        distillation_loss(torch.zeros(2, 3), torch.zeros(2, 5), 2.0)


class _Tiny(torch.nn.Module):
    """A model with HF's calling convention: keyword inputs -> .logits (.loss with labels)."""

    def __init__(self, seed: int):
        super().__init__()
        torch.manual_seed(seed)
        self.linear = torch.nn.Linear(4, 3)
        self.dropout = torch.nn.Dropout(0.5)  # train/eval mode changes the output

    def forward(self, x, labels=None):
        logits = self.linear(self.dropout(x))
        out = type("Out", (), {})()
        out.logits = logits
        out.loss = F.cross_entropy(logits, labels) if labels is not None else None
        return out


def test_teacher_is_frozen_and_in_eval_mode_while_the_student_learns():
    student, teacher = _Tiny(1), _Tiny(2)
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student_before = {k: v.clone() for k, v in student.state_dict().items()}
    distiller = Distiller(teacher, temperature=2.0, weight=0.5)
    teacher.train()  # whatever a caller does to it, the distiller evaluates it in eval mode
    optimizer = torch.optim.SGD(list(student.parameters()) + list(teacher.parameters()), lr=0.5)
    batch = {"x": torch.randn(8, 4), "labels": torch.randint(0, 3, (8,))}
    for _ in range(3):
        student.train()
        out = student(**batch)
        loss, distill = distiller.mix(out.loss, out.logits, batch)
        assert loss.item() == pytest.approx(0.5 * out.loss.item() + 0.5 * distill.item(), rel=1e-6)
        loss.backward()
        assert all(p.grad is None for p in teacher.parameters())
        optimizer.step()
        optimizer.zero_grad()
    assert not teacher.training
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())
    assert any(not torch.equal(student_before[k], v) for k, v in student.state_dict().items())
    # eval mode: the teacher's logits are deterministic (dropout off)
    assert torch.equal(distiller.teacher_logits(batch), distiller.teacher_logits(batch))


def test_weights_mix_task_and_distillation():
    student, teacher = _Tiny(1), _Tiny(1)
    batch = {"x": torch.randn(4, 4), "labels": torch.tensor([0, 1, 2, 0])}
    student.eval()
    out = student(**batch)
    only_task, _ = Distiller(teacher, 2.0, 0.0).mix(out.loss, out.logits, batch)
    assert only_task.item() == pytest.approx(out.loss.item())
    only_distill, distill = Distiller(teacher, 2.0, 1.0).mix(out.loss, out.logits, batch)
    assert only_distill.item() == pytest.approx(distill.item()) and math.isclose(
        distill.item(), 0.0, abs_tol=1e-6
    )
