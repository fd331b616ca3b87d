"""Glue so that sktime estimators work with current scikit-learn tools."""

from __future__ import annotations

__all__ = ["SklearnCompatMixin"]

_MISSING = object()
# set by sklearn's callback machinery on sub-estimators of meta-estimators; it
# is deleted again after fit, so it must survive sktime's reset() inside fit
_SKLEARN_CONTEXT_ATTRS = ("_parent_callback_ctx",)


class SklearnCompatMixin:
    """Give a sktime estimator ``__sklearn_tags__`` and a sklearn-safe ``reset``.

    sktime 1.2 defines neither; sklearn >= 1.6 asks every estimator for its tags
    (``is_classifier``, ``GridSearchCV`` scoring, ``cross_val_score``'s default
    splitter), and sklearn 1.9 stores ``_parent_callback_ctx`` on estimators that
    sktime's ``reset()`` would delete. Put this class first in the bases.
    """

    _sklearn_estimator_type: str | None = None

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags

        kind = self._sklearn_estimator_type
        return Tags(
            estimator_type=kind,
            target_tags=TargetTags(required=kind is not None),
            classifier_tags=ClassifierTags() if kind == "classifier" else None,
            regressor_tags=RegressorTags() if kind == "regressor" else None,
            input_tags=InputTags(two_d_array=True, three_d_array=True),
            non_deterministic=False,
        )

    def reset(self):
        kept = {name: self.__dict__.get(name, _MISSING) for name in _SKLEARN_CONTEXT_ATTRS}
        super().reset()
        for name, value in kept.items():
            if value is not _MISSING:
                setattr(self, name, value)
        return self
