pub mod esl;
