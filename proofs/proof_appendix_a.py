"""Appendix A lists, among the distributive laws, ``A (x) (B (x) C) = (A (x) B) (x) (A (x) C)``.

Claim. For a commutative, associative multiplication, this identity holds for all a, b, c if and
only if the multiplication is idempotent (``a (x) a = a``).

Proof. By commutativity and associativity, ``(a (x) b) (x) (a (x) c) = (a (x) a) (x) (b (x) c)``.
If ``(x)`` is idempotent this is ``a (x) (b (x) c)``. Conversely, taking b = c = 1 (the identity)
the identity reads ``a = a (x) a``. So it holds for ``max_min``, ``min_max``, ``or_and`` and
``union_intersect`` (min, max, and, intersect are idempotent) and fails for ``plus_times``
(``a b c`` versus ``a^2 b c``) and the tropical semirings whose multiplication is ``+``
(``a + b + c`` versus ``2a + b + c``). It is an identity of idempotent multiplications, not a
semiring law, and symdnn does not assume it.
"""

from __future__ import annotations

import sympy

from symdnn import check_laws

a, b, c = sympy.symbols("a b c", real=True)


def test_fails_for_plus_times_unless_a_is_0_or_1():
    diff = sympy.factor(a * (b * c) - (a * b) * (a * c))
    assert diff == -a * b * c * (a - 1)
    assert sympy.solve(diff.subs({b: 1, c: 1}), a) == [0, 1]


def test_fails_for_max_plus_unless_a_is_0():
    assert sympy.simplify((a + (b + c)) - ((a + b) + (a + c))) == -a


def test_holds_for_max_min_and_min_max():
    assert sympy.Min(a, sympy.Min(b, c)) == sympy.Min(sympy.Min(a, b), sympy.Min(a, c))
    assert sympy.Max(a, sympy.Max(b, c)) == sympy.Max(sympy.Max(a, b), sympy.Max(a, c))


def test_the_converse_step_b_equals_c_equals_one():
    # with b = c = 1 the identity is a = a (x) a; for plus_times that is a = a**2
    assert sympy.solve(sympy.Eq(a, a * a), a) == [0, 1]


def test_check_laws_agrees():
    assert not check_laws("plus_times", "QQ", laws=["mul_self_distributive"]).holds
    assert not check_laws("max_plus", "ZZ", laws=["mul_self_distributive"]).holds
    assert check_laws("max_min", "QQ", laws=["mul_self_distributive"]).holds
