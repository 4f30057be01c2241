"""The shared detection metrics (`likeness.metrics`) against answers worked out by hand."""
import numpy as np

from likeness.metrics import auc, tpr_at_fpr


def test_auc_counts_the_ordered_pairs():
    # pairs (fake, real) ordered right: 0.35>0.1, 0.8>0.1, 0.8>0.4; wrong: 0.35<0.4 -> 3 of 4
    assert auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75


def test_auc_needs_both_classes():
    assert np.isnan(auc(np.array([1, 1]), np.array([0.2, 0.9])))


def test_tpr_at_fpr_uses_the_real_score_that_fpr_of_reals_reach():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.9, 0.25, 0.5, 0.95, 0.99])
    assert tpr_at_fpr(y, s, 0.5) == 0.75    # threshold 0.3 (one real of four above it); three fakes above it
    assert tpr_at_fpr(y, s, 0.0) == 0.5     # threshold: the highest real, 0.9
    assert np.isnan(tpr_at_fpr(y[:4], s[:4], 0.05))
