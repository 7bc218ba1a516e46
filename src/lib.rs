pub mod esl;
pub mod sim;
