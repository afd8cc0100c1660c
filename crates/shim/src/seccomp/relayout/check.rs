//! The new program run against the original.

use std::collections::BTreeSet;

use libc::sock_filter;

use super::{
    compare, residual, Constants, Node, AND_K, DATA_LEN, JA, JEQ, JGE, JGT, JSET, LD_W_ABS,
    MAX_NODES, RET_K,
};

/// Whether `a` and `b` decide alike on every stretch of architecture and
/// number, and, where `a` tests arguments, on values around each constant
/// it compares them with.
pub(super) fn same_decisions(a: &[sock_filter], b: &[sock_filter], consts: &Constants) -> bool {
    let mut values: BTreeSet<u32> = [0, 1, u32::MAX].into();
    for &k in &consts.other {
        values.extend([k, k.wrapping_sub(1), k.wrapping_add(1), !k]);
    }
    for &arch in &consts.arch {
        for &nr in &consts.nr {
            let mut data = [0u32; DATA_LEN as usize / 4];
            data[0] = nr;
            data[1] = arch;
            let (Some(x), Some(y)) = (run(a, &data), run(b, &data)) else {
                return false;
            };
            if x != y {
                return false;
            }
            let mut budget = MAX_NODES;
            if matches!(
                residual(a, 0, 0, (arch, nr), &mut budget),
                Some(Node::Ret(_))
            ) {
                continue;
            }
            for &v in &values {
                for word in 2..data.len() {
                    let mut data = data;
                    data[word] = v;
                    if run(a, &data) != run(b, &data) {
                        return false;
                    }
                }
                let mut all = data;
                all[2..].fill(v);
                if run(a, &all) != run(b, &all) {
                    return false;
                }
            }
        }
    }
    true
}

/// What `program` returns for `data` (the words of `struct seccomp_data`),
/// for the instructions this module knows.
pub(super) fn run(program: &[sock_filter], data: &[u32; DATA_LEN as usize / 4]) -> Option<u32> {
    let mut a = 0u32;
    let mut pc = 0;
    loop {
        let insn = program.get(pc)?;
        pc += 1;
        match insn.code {
            LD_W_ABS => a = *data.get(insn.k as usize / 4)?,
            JA => pc += insn.k as usize,
            JEQ | JGT | JGE | JSET => {
                pc += match compare(insn.code, a, insn.k) {
                    true => insn.jt as usize,
                    false => insn.jf as usize,
                }
            }
            AND_K => a &= insn.k,
            RET_K => return Some(insn.k),
            _ => return None,
        }
    }
}
