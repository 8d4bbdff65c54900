//! Vectors of subscriptions that grow by half of what they hold (at least one) instead of
//! doubling from four: a stage has one or two subscriptions as a rule, and each entry is about a
//! hundred bytes, so a first push that makes room for four costs some 300 bytes nobody uses.

/// Pushes `item`, making room for half as many more as `v` holds (at least one) when full.
#[inline]
pub(crate) fn push<T>(v: &mut Vec<T>, item: T) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 2).max(1));
    }
    v.push(item);
}

#[cfg(test)]
mod tests {
    #[test]
    fn grows_by_half_from_one() {
        let mut v: Vec<u64> = Vec::new();
        let mut capacities = Vec::new();
        for i in 0..10 {
            super::push(&mut v, i);
            capacities.push(v.capacity());
        }
        assert_eq!(v, (0..10).collect::<Vec<_>>());
        assert_eq!(capacities, vec![1, 2, 3, 4, 6, 6, 9, 9, 9, 13]);
    }
}
