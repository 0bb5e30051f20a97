// The empty app shell bench/console.py compares the console's first load with: the same document and
// stylesheet, no application; "interactive" is marked the way main.jsx marks it.
import './styles.css';

document.body.dataset.ready = '1';
