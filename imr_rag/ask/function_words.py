"""The words a question may hold that mean nothing to its reading: articles, pronouns, auxiliary
verbs, prepositions and the verbs of asking. They are consumed without a trace.

Kept short (at most ~150 words) and free of any domain or field word: a word that could change
what is counted (a unit, a field, a time, a comparison, an outcome, a quantifier, a negation)
is an intent cue or a slot, never a function word. The docs print this list.
"""

from __future__ import annotations

FUNCTION_WORDS: frozenset[str] = frozenset(
    ["a", "an", "the", "this", "that", "these", "those", "it", "its", "they", "them", "their", "there", "here", "i", "me", "my", "we", "us", "our", "you", "your", "he", "she", "his", "her", "who", "whom", "whose", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done", "doing", "has", "have", "had", "having", "can", "could", "would", "should", "will", "may", "might", "must", "shall", "what", "which", "how", "when", "where", "of", "in", "on", "at", "to", "for", "from", "by", "with", "about", "into", "onto", "as", "via", "within", "across", "and", "or", "so", "if", "then", "also", "just", "please", "tell", "show", "give", "find", "get", "got", "getting", "gets", "see", "up", "out", "there's", "what's", "whats", "it's", "involve", "involved", "involving", "include", "included", "including", "includes", "contain", "contains", "contained", "containing", "come", "comes", "came", "went", "go", "goes", "made", "handle", "handled", "hold", "holds", "mention", "mentions", "mentioned", "mentioning", "appear", "appears", "appeared", "concern", "concerning", "regarding", "re", "ever", "actually", "really", "were", "there", "is", "there", "request's", "let", "know", "pls", "plz", "w", "saw", "end", "s", "under", "behind", "but", "yet"]
)
"""At most ~150 words; no noun of imr_rag.ask.fields.FIELDS (a test checks both)."""
