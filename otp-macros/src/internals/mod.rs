//! The parsed model of a server (`ast`), attribute parsing (`attr`), the error accumulator
//! (`ctxt`), the checks that need the whole model (`check`) with the names a handler cannot take
//! (`reserved`) and the runtime's path (`runtime`). Parsing and checking never
//! generate code; `expand` and `derive` never report user mistakes.

pub mod ast;
pub mod attr;
pub mod check;
pub mod ctxt;
pub mod reserved;
pub mod runtime;
