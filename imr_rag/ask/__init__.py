"""Questions about the letters: read a question into a plan, compile the plan to SQL, answer.

Data flows one way: `fields` (the one table of what can be asked about) and `plan` (the algebra
a question is read into) are shared; `reader` turns words into a plan or a question back;
`compile` turns a plan into SQL and `execute` runs it; `answer` writes the answer with its
reading line and citations. No module takes the engine back as an argument.
"""
