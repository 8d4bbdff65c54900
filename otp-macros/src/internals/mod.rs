//! The parsed model of a server (`ast`), attribute parsing (`attr`), the error accumulator
//! (`ctxt`) and the checks that need the whole model (`check`). Parsing and checking never
//! generate code; `expand` and `derive` never report user mistakes.

pub mod ast;
pub mod attr;
pub mod check;
pub mod ctxt;
