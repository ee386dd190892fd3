//! The generators' event queue. Work is processed strictly in (time, insertion)
//! order and never scheduled in the past, so advancing to T1 and then T2 gives
//! exactly the data of advancing straight to T2.

use std::{cmp::Reverse, collections::BinaryHeap};

#[derive(Debug)]
pub(crate) struct Agenda<T: Ord> {
    heap: BinaryHeap<Reverse<(i64, u64, T)>>,
    inserted: u64,
}

impl<T: Ord> Default for Agenda<T> {
    fn default() -> Self {
        Self {
            heap: BinaryHeap::new(),
            inserted: 0,
        }
    }
}

impl<T: Ord> Agenda<T> {
    pub fn push(&mut self, at: i64, task: T) {
        self.inserted += 1;
        self.heap.push(Reverse((at, self.inserted, task)));
    }

    /// The next task due strictly before `end`.
    pub fn pop_before(&mut self, end: i64) -> Option<(i64, T)> {
        if self.heap.peek()?.0 .0 >= end {
            return None;
        }
        self.heap.pop().map(|Reverse((at, _, task))| (at, task))
    }
}
