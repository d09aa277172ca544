package demosite

// authorData is one author and their quotes, as embedded in the binary.
type authorData struct {
	Name, Slug  string
	Born        string // "March 14, 1879"
	Location    string // "in Ulm, Germany"
	Description string
	Quotes      []quoteData
}

type quoteData struct {
	Text string
	Tags []string
}

// content returns the embedded quotes, grouped by author: 100 quotes by 24
// authors, all public domain, with 12 tags. It returns a fresh value on each
// call so that no package-level state is shared between sites.
//
// The order matters: New interleaves the authors round-robin, so the first
// listing page shows the first quote of each of the first authors. The first
// quote of the first author is shown again on /broken/malformed, and the
// first quote of the second author (Pascal, with accents) on /broken/latin1.
//
// A few texts exercise CSV quoting: commas, double quotes (Dickens, Carroll,
// Dickinson) and one line break (Dickinson).
func content() []authorData {
	return []authorData{
		{
			Name: "Albert Einstein", Slug: "albert-einstein", Born: "March 14, 1879", Location: "in Ulm, Germany",
			Description: "Physicist who developed the theory of relativity and received the 1921 Nobel Prize in Physics.",
			Quotes: []quoteData{
				{"Imagination is more important than knowledge.", []string{"knowledge", "wisdom"}},
				{"Life is like riding a bicycle. To keep your balance, you must keep moving.", []string{"life", "change"}},
				{"Try not to become a man of success, but rather try to become a man of value.", []string{"success", "wisdom"}},
				{"The important thing is not to stop questioning. Curiosity has its own reason for existing.", []string{"knowledge", "wisdom"}},
				{"A person who never made a mistake never tried anything new.", []string{"courage", "change"}},
				{"Logic will get you from A to B. Imagination will take you everywhere.", []string{"knowledge"}},
			},
		},
		{
			Name: "Blaise Pascal", Slug: "blaise-pascal", Born: "June 19, 1623", Location: "in Clermont-Ferrand, France",
			Description: "Mathematician, physicist and philosopher; author of the Pensées.",
			Quotes: []quoteData{
				{"Le silence éternel de ces espaces infinis m'effraie.", []string{"truth", "wisdom"}},
				{"The heart has its reasons which reason knows nothing of.", []string{"love", "wisdom"}},
				{"I have made this letter longer than usual, only because I have not had the time to make it shorter.", []string{"humor", "books"}},
			},
		},
		{
			Name: "Mark Twain", Slug: "mark-twain", Born: "November 30, 1835", Location: "in Florida, Missouri, USA",
			Description: "Writer and humorist, author of The Adventures of Tom Sawyer and Adventures of Huckleberry Finn.",
			Quotes: []quoteData{
				{"The secret of getting ahead is getting started.", []string{"success", "life"}},
				{"Courage is resistance to fear, mastery of fear, not absence of fear.", []string{"courage"}},
				{"Always do right. This will gratify some people and astonish the rest.", []string{"humor", "truth"}},
				{"If you tell the truth, you don't have to remember anything.", []string{"truth", "humor"}},
				{"The report of my death was an exaggeration.", []string{"humor"}},
				{"Get your facts first, and then you can distort them as much as you please.", []string{"truth", "humor"}},
			},
		},
		{
			Name: "Jane Austen", Slug: "jane-austen", Born: "December 16, 1775", Location: "in Steventon, Hampshire, England",
			Description: "Novelist, author of Pride and Prejudice, Emma and Northanger Abbey.",
			Quotes: []quoteData{
				{"There is no charm equal to tenderness of heart.", []string{"love"}},
				{"I declare after all there is no enjoyment like reading! How much sooner one tires of any thing than of a book!", []string{"books", "happiness"}},
				{"The person, be it gentleman or lady, who has not pleasure in a good novel, must be intolerably stupid.", []string{"books", "humor"}},
				{"Friendship is certainly the finest balm for the pangs of disappointed love.", []string{"friendship", "love"}},
				{"To be fond of dancing was a certain step towards falling in love.", []string{"love", "humor"}},
			},
		},
		{
			Name: "Charles Dickens", Slug: "charles-dickens", Born: "February 7, 1812", Location: "in Portsmouth, England",
			Description: "Novelist, author of A Christmas Carol, Oliver Twist and A Tale of Two Cities.",
			Quotes: []quoteData{
				{`"Bah!" said Scrooge, "Humbug!"`, []string{"humor"}},
				{"It was the best of times, it was the worst of times.", []string{"life", "change"}},
				{"No one is useless in this world who lightens the burdens of another.", []string{"friendship", "love"}},
				{"There is nothing in the world so irresistibly contagious as laughter and good humour.", []string{"humor", "happiness"}},
			},
		},
		{
			Name: "Oscar Wilde", Slug: "oscar-wilde", Born: "October 16, 1854", Location: "in Dublin, Ireland",
			Description: "Poet and playwright, author of The Picture of Dorian Gray and The Importance of Being Earnest.",
			Quotes: []quoteData{
				{"We are all in the gutter, but some of us are looking at the stars.", []string{"life", "wisdom"}},
				{"Experience is the name every one gives to their mistakes.", []string{"wisdom", "humor"}},
				{"I can resist everything except temptation.", []string{"humor"}},
				{"There is only one thing in the world worse than being talked about, and that is not being talked about.", []string{"humor"}},
				{"To love oneself is the beginning of a lifelong romance.", []string{"love", "happiness"}},
			},
		},
		{
			Name: "Emily Dickinson", Slug: "emily-dickinson", Born: "December 10, 1830", Location: "in Amherst, Massachusetts, USA",
			Description: "Poet whose nearly 1,800 poems were almost all published after her death.",
			Quotes: []quoteData{
				{"\"Hope\" is the thing with feathers -\nThat perches in the soul -", []string{"courage", "happiness"}},
				{"Forever is composed of nows.", []string{"life"}},
				{"That it will never come again is what makes life so sweet.", []string{"life", "happiness"}},
				{"The soul should always stand ajar, ready to welcome the ecstatic experience.", []string{"happiness", "courage"}},
			},
		},
		{
			Name: "Lewis Carroll", Slug: "lewis-carroll", Born: "January 27, 1832", Location: "in Daresbury, Cheshire, England",
			Description: "Writer and mathematician, author of Alice's Adventures in Wonderland.",
			Quotes: []quoteData{
				{`"Begin at the beginning," the King said, very gravely, "and go on till you come to the end: then stop."`, []string{"humor", "books"}},
				{"Why, sometimes I've believed as many as six impossible things before breakfast.", []string{"humor", "courage"}},
				{"It's no use going back to yesterday, because I was a different person then.", []string{"change", "life"}},
				{`"Curiouser and curiouser!" cried Alice.`, []string{"humor", "books"}},
			},
		},
		{
			Name: "Benjamin Franklin", Slug: "benjamin-franklin", Born: "January 17, 1706", Location: "in Boston, Massachusetts, USA",
			Description: "Printer, scientist, inventor and statesman; publisher of Poor Richard's Almanack.",
			Quotes: []quoteData{
				{"Well done is better than well said.", []string{"success", "wisdom"}},
				{"An investment in knowledge pays the best interest.", []string{"knowledge"}},
				{"Early to bed and early to rise, makes a man healthy, wealthy, and wise.", []string{"wisdom", "life"}},
				{"Lost time is never found again.", []string{"life", "wisdom"}},
				{"Three may keep a secret, if two of them are dead.", []string{"humor", "truth"}},
			},
		},
		{
			Name: "Abraham Lincoln", Slug: "abraham-lincoln", Born: "February 12, 1809", Location: "in Hodgenville, Kentucky, USA",
			Description: "Sixteenth president of the United States.",
			Quotes: []quoteData{
				{"A house divided against itself cannot stand.", []string{"truth"}},
				{"With malice toward none, with charity for all.", []string{"love", "wisdom"}},
				{"Am I not destroying my enemies when I make friends of them?", []string{"friendship", "wisdom"}},
				{"Always bear in mind that your own resolution to succeed is more important than any other one thing.", []string{"success", "courage"}},
			},
		},
		{
			Name: "William Shakespeare", Slug: "william-shakespeare", Born: "April 23, 1564", Location: "in Stratford-upon-Avon, England",
			Description: "Playwright and poet, author of Hamlet, A Midsummer Night's Dream and As You Like It.",
			Quotes: []quoteData{
				{"The course of true love never did run smooth.", []string{"love"}},
				{"All the world's a stage, and all the men and women merely players.", []string{"life"}},
				{"This above all: to thine own self be true.", []string{"truth", "wisdom"}},
				{"Love all, trust a few, do wrong to none.", []string{"love", "friendship", "wisdom"}},
				{"We know what we are, but know not what we may be.", []string{"life", "change"}},
			},
		},
		{
			Name: "Confucius", Slug: "confucius", Born: "551 BC", Location: "in Qufu, State of Lu",
			Description: "Philosopher whose teachings were collected in the Analects.",
			Quotes: []quoteData{
				{"Real knowledge is to know the extent of one's ignorance.", []string{"knowledge", "wisdom"}},
				{"Everything has beauty, but not everyone sees it.", []string{"life", "happiness"}},
				{"When we see men of worth, we should think of equaling them; when we see men of a contrary character, we should turn inwards and examine ourselves.", []string{"wisdom"}},
				{"Wheresoever you go, go with all your heart.", []string{"courage", "love"}},
			},
		},
		{
			Name: "Aristotle", Slug: "aristotle", Born: "384 BC", Location: "in Stagira, Chalcidice",
			Description: "Philosopher, student of Plato and teacher of Alexander the Great.",
			Quotes: []quoteData{
				{"Happiness depends upon ourselves.", []string{"happiness"}},
				{"The roots of education are bitter, but the fruit is sweet.", []string{"knowledge", "wisdom"}},
				{"What is a friend? A single soul dwelling in two bodies.", []string{"friendship"}},
				{"Knowing yourself is the beginning of all wisdom.", []string{"wisdom"}},
			},
		},
		{
			Name: "Marcus Aurelius", Slug: "marcus-aurelius", Born: "April 26, 121", Location: "in Rome, Roman Empire",
			Description: "Roman emperor and Stoic philosopher, author of the Meditations.",
			Quotes: []quoteData{
				{"The happiness of your life depends upon the quality of your thoughts.", []string{"happiness", "life"}},
				{"Waste no more time arguing about what a good man should be. Be one.", []string{"courage", "wisdom"}},
				{"Loss is nothing else but change, and change is Nature's delight.", []string{"change"}},
				{"Very little is needed to make a happy life; it is all within yourself, in your way of thinking.", []string{"happiness", "life"}},
			},
		},
		{
			Name: "Seneca", Slug: "seneca", Born: "4 BC", Location: "in Corduba, Hispania",
			Description: "Stoic philosopher, statesman and dramatist of ancient Rome.",
			Quotes: []quoteData{
				{"Luck is what happens when preparation meets opportunity.", []string{"success"}},
				{"While we are postponing, life speeds by.", []string{"life"}},
				{"Difficulties strengthen the mind, as labor does the body.", []string{"courage"}},
				{"It is not that we have a short time to live, but that we waste a lot of it.", []string{"life", "wisdom"}},
			},
		},
		{
			Name: "Ralph Waldo Emerson", Slug: "ralph-waldo-emerson", Born: "May 25, 1803", Location: "in Boston, Massachusetts, USA",
			Description: "Essayist, lecturer and poet who led the transcendentalist movement.",
			Quotes: []quoteData{
				{"The only way to have a friend is to be one.", []string{"friendship"}},
				{"Nothing great was ever achieved without enthusiasm.", []string{"success"}},
				{"A friend is a person with whom I may be sincere. Before him I may think aloud.", []string{"friendship", "truth"}},
				{"Hitch your wagon to a star.", []string{"success", "courage"}},
			},
		},
		{
			Name: "Henry David Thoreau", Slug: "henry-david-thoreau", Born: "July 12, 1817", Location: "in Concord, Massachusetts, USA",
			Description: "Essayist and naturalist, author of Walden.",
			Quotes: []quoteData{
				{"If one advances confidently in the direction of his dreams, and endeavors to live the life which he has imagined, he will meet with a success unexpected in common hours.", []string{"success", "courage"}},
				{"Rather than love, than money, than fame, give me truth.", []string{"truth", "love"}},
				{"Books are the treasured wealth of the world and the fit inheritance of generations and nations.", []string{"books"}},
				{"The mass of men lead lives of quiet desperation.", []string{"life"}},
			},
		},
		{
			Name: "Leo Tolstoy", Slug: "leo-tolstoy", Born: "September 9, 1828", Location: "in Yasnaya Polyana, Russian Empire",
			Description: "Novelist, author of War and Peace and Anna Karenina.",
			Quotes: []quoteData{
				{"Happy families are all alike; every unhappy family is unhappy in its own way.", []string{"happiness", "life"}},
				{"The two most powerful warriors are patience and time.", []string{"wisdom", "courage"}},
				{"Everyone thinks of changing the world, but no one thinks of changing himself.", []string{"change"}},
				{"If you want to be happy, be.", []string{"happiness"}},
			},
		},
		{
			Name: "Voltaire", Slug: "voltaire", Born: "November 21, 1694", Location: "in Paris, France",
			Description: "Writer and philosopher of the Enlightenment, author of Candide.",
			Quotes: []quoteData{
				{"Judge a man by his questions rather than by his answers.", []string{"wisdom", "knowledge"}},
				{"Common sense is not so common.", []string{"wisdom", "humor"}},
				{"Let us cultivate our garden.", []string{"life", "happiness"}},
				{"The best is the enemy of the good.", []string{"success", "wisdom"}},
			},
		},
		{
			Name: "René Descartes", Slug: "rene-descartes", Born: "March 31, 1596", Location: "in La Haye en Touraine, France",
			Description: "Philosopher and mathematician, author of the Discourse on the Method.",
			Quotes: []quoteData{
				{"I think, therefore I am.", []string{"truth", "knowledge"}},
				{"The reading of all good books is like a conversation with the finest minds of past centuries.", []string{"books", "knowledge"}},
				{"It is not enough to have a good mind; the main thing is to use it well.", []string{"wisdom", "knowledge"}},
			},
		},
		{
			Name: "Lao Tzu", Slug: "lao-tzu", Born: "6th century BC", Location: "in the State of Chu",
			Description: "Philosopher traditionally credited with the Tao Te Ching.",
			Quotes: []quoteData{
				{"A journey of a thousand miles begins with a single step.", []string{"courage", "change", "success"}},
				{"Knowing others is wisdom, knowing yourself is enlightenment.", []string{"wisdom", "knowledge"}},
				{"When I let go of what I am, I become what I might be.", []string{"change"}},
				{"Nature does not hurry, yet everything is accomplished.", []string{"life", "wisdom"}},
			},
		},
		{
			Name: "Thomas Edison", Slug: "thomas-edison", Born: "February 11, 1847", Location: "in Milan, Ohio, USA",
			Description: "Inventor of the phonograph and a practical incandescent light bulb.",
			Quotes: []quoteData{
				{"I have not failed. I've just found 10,000 ways that won't work.", []string{"success", "courage", "humor"}},
				{"Genius is one percent inspiration and ninety-nine percent perspiration.", []string{"success"}},
				{"There is no substitute for hard work.", []string{"success"}},
				{"Opportunity is missed by most people because it is dressed in overalls and looks like work.", []string{"success", "humor"}},
			},
		},
		{
			Name: "Walt Whitman", Slug: "walt-whitman", Born: "May 31, 1819", Location: "in West Hills, New York, USA",
			Description: "Poet, author of Leaves of Grass.",
			Quotes: []quoteData{
				{"Do I contradict myself? Very well then I contradict myself, (I am large, I contain multitudes.)", []string{"truth", "humor"}},
				{"Keep your face always toward the sunshine, and shadows will fall behind you.", []string{"happiness", "courage"}},
				{"Re-examine all you have been told, dismiss what insults your own soul.", []string{"truth", "wisdom"}},
			},
		},
		{
			Name: "Socrates", Slug: "socrates", Born: "470 BC", Location: "in Athens, Greece",
			Description: "Philosopher of Athens, known through the dialogues of Plato.",
			Quotes: []quoteData{
				{"The unexamined life is not worth living.", []string{"life", "wisdom"}},
				{"I know that I know nothing.", []string{"knowledge", "wisdom"}},
				{"Wonder is the beginning of wisdom.", []string{"wisdom", "knowledge"}},
			},
		},
	}
}
